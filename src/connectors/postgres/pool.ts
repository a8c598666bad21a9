import pg from 'pg';
import { exactTypes } from './read-values.js';

/**
 * A cut connection emits 'error' on its client — idle in the pool, or checked
 * out between two statements of a transaction. Unheard, that event crashes the
 * worker; heard, the broken client is discarded, the statement in flight (if
 * any) fails on its own, and the activity's retry runs on a fresh connection.
 */
export function survivesCutConnections(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

const pools = new Map<string, { pool: pg.Pool; users: number }>();

/**
 * One pool per connection string in this process, shared by sources and
 * targets. Its values are read exactly (read-values.ts), never as JS Dates or
 * rounded numbers.
 */
export function acquirePool(url: string): pg.Pool {
  const entry = pools.get(url);
  if (entry) {
    entry.users += 1;
    return entry.pool;
  }
  const pool = new pg.Pool({ connectionString: url, max: 8, types: exactTypes, application_name: 'ferry-connector' });
  survivesCutConnections(pool);
  pools.set(url, { pool, users: 1 });
  return pool;
}

export async function releasePool(url: string): Promise<void> {
  const entry = pools.get(url);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users <= 0) {
    pools.delete(url);
    await entry.pool.end();
  }
}
