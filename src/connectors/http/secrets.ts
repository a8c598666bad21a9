import { ConfigurationError } from '../../core/errors.js';

/**
 * A secret, by reference: the NAME of the environment variable holding it
 * (`'CRM_TOKEN'`), optionally with a prefix (`{ env: 'CRM_TOKEN', prefix:
 * 'Bearer ' }`). Read at request time, so the value never sits in the stream
 * definition, a cursor, Temporal history, a log or an error message.
 */
export type SecretRef = string | { env: string; prefix?: string };

const envName = (ref: SecretRef) => (typeof ref === 'string' ? ref : ref.env);

/** Checks a reference's shape (not its value): at declaration time. */
export function checkSecretRef(ref: SecretRef, what: string): void {
  const name = envName(ref);
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigurationError(`${what}: must name an environment variable (e.g. 'CRM_TOKEN'), got ${JSON.stringify(name)}`, 'secrets are referenced by variable name, never written into the config');
  }
}

/** The secret's value now; a ConfigurationError naming the variable (never a value) when it is unset. */
export function readSecret(ref: SecretRef, what: string): string {
  const name = envName(ref);
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`${what}: environment variable ${name} is not set`, `set ${name} in the worker's environment`);
  }
  return typeof ref === 'string' ? value : `${ref.prefix ?? ''}${value}`;
}

/** Headers with the secret ones resolved, for one request. */
export function resolveHeaders(statics: Record<string, string> | undefined, secrets: Record<string, SecretRef> | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...(statics ?? {}) };
  for (const [name, ref] of Object.entries(secrets ?? {})) headers[name] = readSecret(ref, `secret header "${name}"`);
  return headers;
}

/** Sets the secret query parameters on a URL, for one request. */
export function withSecretQuery(url: URL, secrets: Record<string, SecretRef> | undefined): URL {
  const out = new URL(url);
  for (const [name, ref] of Object.entries(secrets ?? {})) out.searchParams.set(name, readSecret(ref, `secret query parameter "${name}"`));
  return out;
}

/** The URL as it may be shown and stored: secret query parameters removed (a server may echo them into its next-page links). */
export function withoutSecretQuery(url: URL | string, secrets: Record<string, SecretRef> | undefined): string {
  const out = new URL(url);
  for (const name of Object.keys(secrets ?? {})) out.searchParams.delete(name);
  out.username = '';
  out.password = '';
  return out.toString();
}
