import type pg from 'pg';

/** One row for a write table: its index in the batch, then the Postgres text of each field (null: NULL). */
export interface TextRow {
  index: number;
  values: readonly (string | null)[];
}

/**
 * Fills a write table (`__ferry_ord int, v0 text, …`) with one parameterised
 * INSERT … SELECT FROM unnest(…): the way in for a server that takes no
 * COPY FROM STDIN over the wire (PGlite's socket, which the embedded demo
 * uses). Slower than COPY on a real server, so only used there.
 */
export async function insertTextRows(client: pg.PoolClient, table: string, width: number, rows: readonly TextRow[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Array.from({ length: width }, (_, n) => rows.map((r) => r.values[n] ?? null));
  const arrays = columns.map((_, n) => `$${n + 2}::text[]`).join(', ');
  await client.query(`insert into ${table} select * from unnest($1::int[]${width ? `, ${arrays}` : ''})`, [rows.map((r) => r.index), ...columns]);
}

/** Whether this server takes COPY FROM STDIN over the wire: every PostgreSQL does, PGlite (WebAssembly) does not. */
export async function takesCopyFromStdin(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ v: string }>('select version() as v');
  return !/PGlite|emscripten/i.test(rows[0]?.v ?? '');
}
