import { ConfigurationError } from '../../core/errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

/**
 * Quotes an identifier that came from configuration, in backticks. Only plain
 * names are accepted: anything else (spaces, backticks, semicolons) is
 * refused, not escaped, so a typo can never turn into SQL.
 */
export function quoteIdent(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new ConfigurationError(
      `${what} "${name}" is not a valid identifier`,
      'use letters, digits, _ and $ (max 64), optionally database-qualified as database.table',
    );
  }
  return `\`${name}\``;
}

/** 'table' or 'database.table': its parts, checked. */
export function tableName(qualified: string, what: string): { schema: string | undefined; table: string; quoted: string } {
  const parts = qualified.split('.');
  if (parts.length > 2) throw new ConfigurationError(`${what} "${qualified}" is not a valid table name`, 'use table or database.table');
  const quoted = parts.map((p) => quoteIdent(p, what)).join('.');
  return parts.length === 2 ? { schema: parts[0], table: parts[1] as string, quoted } : { schema: undefined, table: parts[0] as string, quoted };
}
