import { ConfigurationError, errorMessage } from '../../core/errors.js';
import { TransientError } from '../errors.js';

interface MysqlError {
  errno?: unknown;
  sqlState?: unknown;
  code?: unknown;
}

const errnoOf = (err: unknown): number | undefined => {
  const n = (err as MysqlError | null)?.errno;
  return typeof n === 'number' ? n : undefined;
};
const sqlStateOf = (err: unknown): string | undefined => {
  const s = (err as MysqlError | null)?.sqlState;
  return typeof s === 'string' && /^[0-9A-Z]{5}$/.test(s) ? s : undefined;
};
const codeOf = (err: unknown): string | undefined => {
  const c = (err as MysqlError | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

/**
 * Errors about one row's content that MySQL/MariaDB report outside SQLSTATE
 * classes 22/23 (HY000): incorrect value for a column (1366), data truncated
 * (1265), a MySQL check constraint (3819), a value out of range in an
 * expression (1690), invalid JSON text (3140).
 */
const ROW_ERRNOS = new Set([1265, 1366, 1367, 1411, 1690, 3140, 3819]);

/** SQLSTATE class 22 (data exception), 23 (integrity constraint), and the errnos above: the row's content is at fault. */
export function isRowLevelError(err: unknown): boolean {
  const state = sqlStateOf(err);
  const errno = errnoOf(err);
  return (state !== undefined && (state.startsWith('22') || state.startsWith('23'))) || (errno !== undefined && ROW_ERRNOS.has(errno));
}

/** Passing faults worth a retry: a deadlock, a lock wait timeout, a lost or refused connection, too many connections. */
const TRANSIENT_ERRNOS = new Set([1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'POOL_CLOSED']);

/**
 * What a MySQL error means for the run: class 42/28/3D (no such table or
 * column, syntax, access denied, no database) is a ConfigurationError;
 * deadlocks, lost connections and any other server error a TransientError
 * (an upsert isolates row-level errors before it calls this); anything else
 * is returned as is (retried as unknown).
 * Only the server's message is kept: mysql2 errors carry the SQL text (record
 * values), which must not reach Temporal history or logs.
 */
export function asConnectorError(err: unknown, context: string): unknown {
  const state = sqlStateOf(err);
  const errno = errnoOf(err);
  const code = codeOf(err);
  if (state && (state.startsWith('42') || state.startsWith('28') || state.startsWith('3D'))) {
    return new ConfigurationError(`${context}: ${errorMessage(err)}`, 'check the connection URL, the table and column names in the stream definition');
  }
  if (errno === 1049 || errno === 1045 || errno === 1044) {
    return new ConfigurationError(`${context}: ${errorMessage(err)}`, 'check the connection URL (database, user, password)');
  }
  if ((errno !== undefined && TRANSIENT_ERRNOS.has(errno)) || (code !== undefined && TRANSIENT_CODES.has(code)) || state === '40001' || state?.startsWith('08')) {
    return new TransientError(`${context}: ${code ?? ''}${code ? ' ' : ''}${errorMessage(err)}`);
  }
  if (err instanceof Error && 'sql' in err) {
    // any other server error (a row-level one outside an upsert, e.g. a delete held by a
    // foreign key): retried; its message and codes kept, the SQL text dropped
    return new TransientError(`${context}: ${code ?? errno ?? ''} ${errorMessage(err)}`.replace(/\s+/g, ' '));
  }
  return err;
}

/** The status kept with a rejected row's dead letter: SQLSTATE and MySQL error code. */
export function errorStatus(err: unknown): string | undefined {
  const state = sqlStateOf(err);
  const errno = errnoOf(err);
  return state || errno ? [state, errno].filter((x) => x !== undefined).join('/') : undefined;
}
