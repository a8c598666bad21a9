import { CompiledQuery, Kysely, MysqlDialect } from 'kysely';
import mysql from 'mysql2';

/**
 * How every connection of the connectors' pools reads and writes values:
 * - BIGINT and DECIMAL as strings (supportBigNumbers + bigNumberStrings), so
 *   no value passes through a JS number it does not fit in;
 * - DATE, DATETIME, TIMESTAMP as the server's text (dateStrings): a JS Date
 *   would drop microseconds and silently break timestamp cursors;
 * - JSON as text (jsonStrings), parsed exactly by the connector (values.ts);
 * - the session in UTC (TIMESTAMP columns are read and written in UTC, and a
 *   timestamp checkpoint tells the lag) and in strict mode (a bad value is an
 *   error, never a silent truncation); without NO_BACKSLASH_ESCAPES, which
 *   mysql2's client-side escaping relies on.
 */
const SESSION = `SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'`;

export type MysqlDb = Kysely<Record<string, never>>;

function createDb(url: string): MysqlDb {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 8,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    // A row of values is sent as one text statement (client-side escaping): no 65,535-placeholder limit.
    multipleStatements: false,
  });
  // An idle connection cut by the server emits 'error' on the pool's connection; unheard it would crash the worker.
  pool.on('connection', (connection) => connection.on('error', () => undefined));
  return new Kysely({
    dialect: new MysqlDialect({
      pool,
      onCreateConnection: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw(SESSION));
      },
    }),
  });
}

/** Runs one statement with `?` parameters (escaped by mysql2); rows of a SELECT, or [] otherwise. */
export async function query<T>(db: MysqlDb, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const result = await db.executeQuery<T>(CompiledQuery.raw(text, [...params]));
  return result.rows;
}

/** Runs a write; the rows it changed (INSERT … ON DUPLICATE KEY UPDATE counts an updated row twice). */
export async function execute(db: MysqlDb, text: string, params: readonly unknown[] = []): Promise<number> {
  const result = await db.executeQuery(CompiledQuery.raw(text, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}

const dbs = new Map<string, { db: MysqlDb; users: number }>();

/** One pool per connection URL in this process, shared by sources and targets. */
export function acquireDb(url: string): MysqlDb {
  const entry = dbs.get(url);
  if (entry) {
    entry.users += 1;
    return entry.db;
  }
  const db = createDb(url);
  dbs.set(url, { db, users: 1 });
  return db;
}

export async function releaseDb(url: string): Promise<void> {
  const entry = dbs.get(url);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users <= 0) {
    dbs.delete(url);
    await entry.db.destroy();
  }
}
