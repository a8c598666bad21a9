import type pg from 'pg';
import type { Cursor } from '../../core/types.js';

/**
 * A key range of a Postgres source (FetchRequest.range): the rows whose key is
 * greater than `after` and at most `upTo`, each bound absent (null) at the
 * ends of the table. Key values as Postgres prints them, compared in the key
 * column's own type.
 */
export interface KeyRange {
  after: string | null;
  upTo: string | null;
}

export function isKeyRange(c: Cursor | undefined): c is Cursor & KeyRange {
  return typeof c === 'object' && c !== null && !Array.isArray(c) && 'after' in c && 'upTo' in c;
}

/** Above this many rows the boundaries come from a block sample of the table instead of every key. */
const SAMPLE_ABOVE = 200_000;
const SAMPLE_ROWS = 100_000;

export interface SplitSpec {
  pool: pg.Pool;
  /** quoted */
  table: string;
  /** quoted key column */
  key: string;
  /** the stream's filter (`postgresSource({ where })`) or '' */
  where: string;
  count: number;
  /** a range smaller than this is not worth its own child workflow (the batch size) */
  minRowsEach: number;
}

/**
 * Splits the table into at most `count` key ranges of about equal row count:
 * boundaries are quantiles of the key (percentile_disc), over a block sample
 * (TABLESAMPLE SYSTEM) on a big table, so splitting 10M rows reads about
 * 100,000. The ranges cover every key whatever the sample says: only their
 * sizes depend on it. Null when the table is too small to be worth splitting.
 */
export async function splitByKey(spec: SplitSpec): Promise<KeyRange[] | null> {
  const { pool, table, key, where, count, minRowsEach } = spec;
  // reltuples is -1 before the first ANALYZE (0 before Postgres 14; autovacuum may be off): then count.
  const { rows: est } = await pool.query<{ n: string }>(`select reltuples::bigint::text as n from pg_class where oid = $1::regclass`, [table]);
  let rows = Number(est[0]?.n ?? -1);
  if (rows <= 0) rows = Number((await pool.query<{ n: string }>(`select count(*)::text as n from ${table}`)).rows[0]?.n ?? 0);
  const parts = Math.min(count, Math.floor(rows / Math.max(1, minRowsEach)));
  if (parts < 2) return null;

  const fractions = Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);
  const sample = rows > SAMPLE_ABOVE ? ` tablesample system (${Math.min(100, (100 * SAMPLE_ROWS) / rows).toFixed(4)})` : '';
  const filter = where ? `where (${where})` : '';
  const { rows: out } = await pool.query<{ bounds: string[] | null }>(
    `select (percentile_disc($1::float8[]) within group (order by ${key}))::text[] as bounds from (select ${key} from ${table}${sample} ${filter}) s`,
    [fractions],
  );
  // Equal quantiles (a skewed key, a tiny sample) would make empty ranges: keep each boundary once.
  const bounds = [...new Set((out[0]?.bounds ?? []).filter((b): b is string => b !== null))];
  if (bounds.length === 0) return null;
  return [...bounds, null].map((upTo, i) => ({ after: i === 0 ? null : (bounds[i - 1] as string), upTo }));
}

