import { ConfigurationError } from '../../core/errors.js';

/** SQLSTATE of a pg error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Class 22 (data exception) and 23 (integrity constraint): the row's content is at fault. */
export function isRowLevelError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/**
 * Class 42 (undefined table/column, syntax, privileges) and 3F (no schema):
 * the configuration is wrong; retrying cannot help.
 */
export function asConfigurationError(err: unknown, context: string): unknown {
  const state = sqlState(err);
  if (state && (state.startsWith('42') || state.startsWith('3F'))) {
    return new ConfigurationError(`${context}: ${(err as Error).message}`, 'check the table and column names in the stream definition');
  }
  return err;
}
