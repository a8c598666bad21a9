// The bench's tables: a source with 11 columns (system A) and a target with the
// same data under ferry's usual shape (own bigserial id + unique external key,
// system B), both in the bench's own database.
import type pg from 'pg';

/** Target columns in the order the COPY baseline and the strategies write them. */
export const TARGET_COLUMNS = [
  'src_id',
  'email',
  'first_name',
  'last_name',
  'country',
  'city',
  'score',
  'balance',
  'active',
  'created_at',
  'source_updated_at',
] as const;

/** The source SELECT that yields target columns (for COPY … TO STDOUT). */
export function sourceAsTarget(source: string, where = ''): string {
  return `select id, lower(email), first_name, last_name, country, city, score, balance, active, created_at, updated_at from ${source} ${where}`;
}

export async function createSourceTable(pool: pg.Pool, name: string, rows: number): Promise<void> {
  await pool.query(`drop table if exists ${name}`);
  await pool.query(`
    create table ${name} (
      id bigint primary key,
      email text not null,
      first_name text not null,
      last_name text not null,
      country text not null,
      city text not null,
      score integer not null,
      balance numeric(12,2) not null,
      active boolean not null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`);
  // ~190 bytes a row on disk: 1M rows ≈ 190 MB. Distinct microsecond timestamps.
  await pool.query(
    `insert into ${name}
     select g,
            'Customer.' || g || '@Example.com',
            (array['Anna','Boris','Chen','Dana','Emil','Fatima','Gustav','Hana'])[1 + g % 8],
            'Lastname-' || (g * 7919 % 100000),
            (array['DE','RU','FR','PL','LT','US','JP'])[1 + g % 7],
            'City ' || (g % 5000),
            (g * 31 % 1000)::int,
            round(((g * 104729 % 1000000) / 100.0)::numeric, 2),
            g % 3 <> 0,
            timestamptz '2025-01-01' + g * interval '1 second',
            timestamptz '2026-01-01' + g * interval '1 millisecond' + (g % 997) * interval '1 microsecond'
     from generate_series(1, $1::bigint) g`,
    [rows],
  );
  // Keyset paging on (updated_at, id) needs this index, as any real ferry source would.
  await pool.query(`create index ${name}_cursor on ${name} (updated_at, id)`);
  await pool.query(`vacuum (analyze) ${name}`);
}

export async function createTargetTable(pool: pg.Pool, name: string): Promise<void> {
  await pool.query(`drop table if exists ${name}`);
  await pool.query(`
    create table ${name} (
      id bigserial primary key,
      src_id bigint not null unique,
      email text not null,
      first_name text not null,
      last_name text not null,
      country text not null,
      city text not null,
      score integer not null,
      balance numeric(12,2) not null,
      active boolean not null,
      created_at timestamptz not null,
      source_updated_at timestamptz not null
    )`);
}

/** Changes `count` rows spread over the table (every k-th id), with a fresh updated_at. */
export async function changeRows(pool: pg.Pool, source: string, rows: number, count: number, round: number): Promise<number> {
  const step = Math.max(1, Math.floor(rows / count));
  const { rowCount } = await pool.query(
    `update ${source} set score = score + 1, updated_at = clock_timestamp()
     where id in (select g from generate_series($1::int, $2::int, $3::int) g limit $4)`,
    [1 + (round % step), rows, step, count],
  );
  return rowCount ?? 0;
}

export async function emptyTarget(pool: pg.Pool, target: string): Promise<void> {
  await pool.query(`truncate ${target} restart identity`);
}

/**
 * ferry's state-store tables in the bench database (every public ferry_* table but the
 * migration bookkeeping), found rather than listed so the bench follows the schema.
 */
export async function ferryStateTables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname like 'ferry\\_%' and c.relname not like 'ferry\\_migrations%'
     order by 1`,
  );
  return rows.map((r) => r.name);
}

/** Forgets everything ferry remembers (the bench database is the bench's alone). */
export async function resetFerryState(pool: pg.Pool): Promise<void> {
  const tables = await ferryStateTables(pool);
  if (tables.length) await pool.query(`truncate ${tables.join(', ')}`);
}

/** The source table's columns, in order: what a peer (Sling, dlt) copies under the same names. */
export const SOURCE_COLUMNS = ['id', 'email', 'first_name', 'last_name', 'country', 'city', 'score', 'balance', 'active', 'created_at', 'updated_at'] as const;

/**
 * One canonical text per column, the same for every tool, so that a target whose
 * types differ from the source's (Sling: numeric without scale; dlt: varchar; any
 * tool: bigint for an int) hashes the same when it holds the same values. The
 * e-mail is compared lower-cased: ferry's stream and the COPY baseline map it to
 * lower case, the peers copy it as it is.
 */
const CANONICAL = ['::bigint::text', '::text', '::text', '::text', '::text', '::text', '::bigint::text', '::numeric(12,2)::text', '::boolean::text', '::timestamptz::text', '::timestamptz::text'];

export interface ContentHash {
  rows: number;
  md5: string;
}

/**
 * Row count and an md5 over all rows of `relation`, read through `columns` (the 11
 * source columns under the names that relation gives them, in source order), ordered
 * by the key. Extra columns (ferry's id, dlt's _dlt_*) are not part of it. Hashed in
 * blocks of 65,536 keys (md5 of each row, md5 of each block, md5 of the blocks in
 * order): one string_agg over a 10M-row table would pass Postgres's 1 GB value limit.
 */
export async function contentHash(pool: pg.Pool, relation: string, columns: readonly string[]): Promise<ContentHash> {
  if (columns.length !== CANONICAL.length) throw new Error(`contentHash: expected ${CANONICAL.length} columns, got ${columns.length}`);
  const exprs = columns.map((c, i) => (i === 1 ? `lower(${c}::text)` : `(${c})${CANONICAL[i]}`));
  const key = `(${columns[0]})::bigint`;
  const { rows } = await pool.query<{ n: string | null; h: string | null }>(
    `select sum(n) as n, md5(string_agg(h, '' order by block)) as h
     from (select ${key} >> 16 as block, count(*) as n, md5(string_agg(md5(concat_ws('|', ${exprs.join(', ')})), '' order by ${key})) as h
           from ${relation} group by 1) blocks`,
  );
  return { rows: Number(rows[0]?.n ?? 0), md5: rows[0]?.h ?? '' };
}

export const sourceHash = (pool: pg.Pool, source: string) => contentHash(pool, source, SOURCE_COLUMNS);
