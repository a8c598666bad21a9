import { ConfigurationError } from '../../core/errors.js';
import { durationToMs } from '../../core/duration.js';
import { TransientError, TransientWithDelayError, retryAfterMs } from '../errors.js';
import { checkSecretRef, resolveHeaders, withSecretQuery, withoutSecretQuery, type SecretRef } from './secrets.js';

/** Where an HTTP API is and how to talk to it: shared by the source and the target. */
export interface HttpConnection {
  /** 'https://crm.example.com/api' */
  baseUrl: string;
  /** static headers sent with every request */
  headers?: Record<string, string>;
  /** headers whose values are secrets, by environment-variable name: `{ Authorization: { env: 'CRM_TOKEN', prefix: 'Bearer ' } }` */
  secretHeaders?: Record<string, SecretRef>;
  /** query parameters whose values are secrets (`{ api_key: 'CRM_API_KEY' }`); never shown in messages or stored in cursors */
  secretQuery?: Record<string, SecretRef>;
  /** per request, the whole reply included; default '30s' */
  timeout?: string | number;
}

export interface HttpRequest {
  method: string;
  url: URL;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** the request as it may be shown: method and URL without secrets */
  shown: string;
}

/** A connection's options checked once, at declaration. */
export class HttpClient {
  readonly timeoutMs: number;
  readonly base: URL;

  constructor(
    readonly connection: HttpConnection,
    what: string,
  ) {
    let base: URL;
    try {
      base = new URL(connection.baseUrl);
    } catch {
      throw new ConfigurationError(`${what}: field "baseUrl": ${JSON.stringify(connection.baseUrl)} is not a URL`, "e.g. baseUrl: 'https://crm.example.com/api'");
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ConfigurationError(`${what}: field "baseUrl": must be http or https`);
    this.base = base;
    const timeout = durationToMs(connection.timeout ?? '30s');
    if (timeout === undefined) throw new ConfigurationError(`${what}: field "timeout": ${JSON.stringify(connection.timeout)} is not a duration`, "e.g. timeout: '30s'");
    this.timeoutMs = timeout;
    for (const [name, ref] of Object.entries(connection.secretHeaders ?? {})) checkSecretRef(ref, `${what}: field "secretHeaders.${name}"`);
    for (const [name, ref] of Object.entries(connection.secretQuery ?? {})) checkSecretRef(ref, `${what}: field "secretQuery.${name}"`);
  }

  /** `path` ('/customers/{id}' filled in by the caller) under the base URL, with query parameters. */
  url(path: string, query: Record<string, string | number | boolean> = {}): URL {
    const base = this.base.toString().replace(/\/+$/, '');
    const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(`${base}/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    return url;
  }

  /** The URL as it may be shown or stored in a cursor (no secret query parameters). */
  shown(url: URL | string): string {
    return withoutSecretQuery(url, this.connection.secretQuery);
  }

  /** Reads every secret once: a missing variable is a ConfigurationError naming it. */
  checkSecrets(): void {
    resolveHeaders(this.connection.headers, this.connection.secretHeaders);
    withSecretQuery(this.base, this.connection.secretQuery);
  }

  /**
   * Sends one request and reads the whole reply within the timeout. A
   * network fault (reset, refused, "the server closed the connection
   * without a response") or the timeout is a TransientError; the status is
   * the caller's to judge (see statusFailure).
   */
  async send(request: HttpRequest): Promise<HttpReply> {
    const shown = `${request.method} ${this.shown(request.url)}`;
    const headers = { ...resolveHeaders(this.connection.headers, this.connection.secretHeaders), ...(request.headers ?? {}) };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await fetch(withSecretQuery(request.url, this.connection.secretQuery), {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal,
        // never follow: a redirect elsewhere would carry the secret headers along
        redirect: 'manual',
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, shown };
    } catch (err) {
      if (signal.aborted) throw new TransientError(`${shown}: no complete reply within ${this.timeoutMs / 1000}s (the request timeout)`);
      throw new TransientError(`${shown}: ${networkFault(err)}`);
    }
  }
}

/** What went wrong on the wire, from undici's error and its cause (codes and messages carry no secrets). */
function networkFault(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_SOCKET' || /other side closed/i.test(message)) return `the server disconnected without sending a complete response (${message})`;
  return `network error${typeof code === 'string' ? ` ${code}` : ''}: ${message}`;
}

/**
 * The failure for a status that is not the record's fault, or undefined for
 * 2xx and for the 4xx a caller judges itself (the source: configuration; the
 * target: a rejected record):
 * - 429, and 503 with Retry-After: TransientWithDelayError (the next attempt waits what the server asked);
 * - 408, 429 without Retry-After, 5xx: TransientError;
 * - 401, 403: ConfigurationError (credentials); 3xx: ConfigurationError (redirects are not followed).
 * Never includes the response body: it may hold record data.
 */
export function statusFailure(reply: HttpReply, context: string): Error | undefined {
  const { status } = reply;
  if (status >= 300 && status < 400) return new ConfigurationError(`${context}: ${reply.shown}: HTTP ${status} (a redirect, not followed: it would carry the secret headers along)`, 'set baseUrl/path to where the API answers');
  if (status < 400) return undefined;
  const prefix = `${context}: ${reply.shown}: HTTP ${status}`;
  if (status === 429 || status === 503) {
    const delay = retryAfterMs(reply.headers.get('retry-after'));
    if (delay !== undefined) return new TransientWithDelayError(prefix, delay);
  }
  if (status === 408 || status === 429 || status >= 500) return new TransientError(prefix);
  if (status === 401 || status === 403) return new ConfigurationError(`${prefix}: the credentials were refused`, 'check the secret headers / query parameters and the variables they name');
  return undefined;
}
