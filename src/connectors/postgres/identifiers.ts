import { ConfigurationError } from '../../core/errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * Quotes an identifier that came from configuration. Only plain names are
 * accepted: anything else (spaces, quotes, semicolons) is refused, not escaped,
 * so a typo can never turn into SQL.
 */
export function quoteIdent(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new ConfigurationError(
      `${what} "${name}" is not a valid identifier`,
      'use letters, digits, _ and $ (max 63), optionally schema-qualified as schema.table',
    );
  }
  return `"${name}"`;
}

/** 'table' or 'schema.table', quoted. */
export function quoteTable(qualified: string, what: string): string {
  const parts = qualified.split('.');
  if (parts.length > 2) throw new ConfigurationError(`${what} "${qualified}" is not a valid table name`, 'use table or schema.table');
  return parts.map((p) => quoteIdent(p, what)).join('.');
}
