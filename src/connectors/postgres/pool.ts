import pg from 'pg';

// Date/time types stay as the server's text: a JS Date would drop microseconds
// and silently break timestamp cursors (and change the values we copy).
const TEXT_TYPES = new Set([1082, 1083, 1114, 1184, 1186, 1266]);

const types = {
  getTypeParser(oid: number, format?: string) {
    if (TEXT_TYPES.has(oid)) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * A cut connection emits 'error' on its client — idle in the pool, or checked
 * out between two statements of a transaction. Unheard, that event crashes the
 * worker; heard, the broken client is discarded, the statement in flight (if
 * any) fails on its own, and the activity's retry runs on a fresh connection.
 */
export function survivesCutConnections(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
}

const pools = new Map<string, { pool: pg.Pool; users: number }>();

/** One pool per connection string in this process, shared by sources and targets. */
export function acquirePool(url: string): pg.Pool {
  const entry = pools.get(url);
  if (entry) {
    entry.users += 1;
    return entry.pool;
  }
  const pool = new pg.Pool({ connectionString: url, max: 8, types, application_name: 'ferry-connector' });
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
