import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { survivesCutConnections } from '../connectors/postgres/pool.js';
import { FerryError, errorMessage } from '../core/errors.js';
import type { FerryDatabase } from './schema.js';

export type StateDb = Kysely<FerryDatabase>;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ferry';

export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

/** The state store: Postgres through kysely. */
export function createStateDb(url = databaseUrl(), maxConnections = 10): StateDb {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, application_name: 'ferry-state' });
  survivesCutConnections(pool);
  return new Kysely<FerryDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/** A connection string fit for a message: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The state store could not be opened or migrated. */
export class StateStoreUnavailableError extends FerryError {
  constructor(url: string, cause: unknown) {
    super(`cannot open the state store at ${redactUrl(url)}: ${(errorMessage(cause).split('\n')[0] ?? '').trim()}`, 'check DATABASE_URL; the database must exist and accept the connection');
  }
}
