import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { survivesCutConnections } from '../connectors/postgres/pool.js';
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
