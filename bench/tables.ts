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

/** Forgets everything ferry remembers (the bench database is the bench's alone). */
export async function resetFerryState(pool: pg.Pool): Promise<void> {
  await pool.query(`truncate ferry_binding_keys, ferry_binding_scopes, ferry_checkpoints, ferry_staging, ferry_dead_letters, ferry_runs`);
}

/** Same content check: target == source mapped (count and a hash over all columns). */
export async function sameContent(pool: pg.Pool, source: string, target: string): Promise<{ ok: boolean; source: number; target: number }> {
  const q = (sql: string) => pool.query<{ n: string; h: string }>(sql).then((r) => r.rows[0] ?? { n: '0', h: '' });
  const s = await q(`select count(*) as n, md5(string_agg(concat_ws('|', ${TARGET_COLUMNS.map((_, i) => `x.c${i}`).join(', ')}), ',' order by x.c0)) as h
                     from (${sourceAsTarget(source)}) as x(${TARGET_COLUMNS.map((_, i) => `c${i}`).join(', ')})`);
  const t = await q(`select count(*) as n, md5(string_agg(concat_ws('|', ${TARGET_COLUMNS.join(', ')}), ',' order by src_id)) as h from ${target}`);
  return { ok: s.n === t.n && s.h === t.h, source: Number(s.n), target: Number(t.n) };
}
