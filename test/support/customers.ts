import type pg from 'pg';
import { z } from 'zod';
import { defineStream, type StreamOptions } from '../../src/config/define-stream.js';
import { postgresSource, type PostgresSourceOptions } from '../../src/connectors/postgres/source.js';
import { postgresTarget, type PostgresTargetOptions } from '../../src/connectors/postgres/target.js';
import { MappingError } from '../../src/core/errors.js';

/**
 * The test world's stream: src_customers (system A) -> dst_customers (system B),
 * both in the test database. Timestamps are timestamptz with microseconds.
 */
export async function createCustomerTables(pool: pg.Pool, suffix = ''): Promise<{ source: string; target: string }> {
  const source = `src_customers${suffix}`;
  const target = `dst_customers${suffix}`;
  await pool.query(`
    create table ${source} (
      id bigint primary key,
      email text,
      name text not null,
      score integer not null default 0,
      updated_at timestamptz not null default clock_timestamp()
    );
    create table ${target} (
      id bigserial primary key,
      customer_id bigint not null unique,
      email text not null,
      name text not null check (name <> 'REJECT ME'),
      score integer not null,
      source_updated_at timestamptz not null
    );`);
  return { source, target };
}

export const customerSchema = z.object({
  id: z.string().regex(/^\d+$/),
  email: z.email(),
  name: z.string().min(1),
  score: z.number().int(),
  updated_at: z.string(),
});

type CustomerOptions = Partial<StreamOptions<typeof customerSchema>> & {
  /** overrides of the default source's options (ignored when `source` is given) */
  sourceOptions?: Partial<PostgresSourceOptions>;
};

/** The CRM's customers table as a source: system 'crm', incremental by updated_at (timestamp cursor). */
export function customerSource(url: string, table: string, options: Partial<PostgresSourceOptions> = {}) {
  return postgresSource({ url, table, system: 'crm', cursor: { column: 'updated_at', kind: 'timestamp' }, ...options });
}

export function customerStream(
  name: string,
  url: string,
  tables: { source: string; target: string },
  { sourceOptions, ...overrides }: CustomerOptions = {},
) {
  return defineStream({
    name,
    source: customerSource(url, tables.source, sourceOptions),
    schema: customerSchema,
    map: (c) => {
      if (c.score < 0) throw new MappingError('score must not be negative', 'score');
      return { kind: 'customer', fields: { customer_id: c.id, email: c.email, name: c.name, score: c.score, source_updated_at: c.updated_at } };
    },
    target: customerTarget(url, tables.target),
    key: 'id',
    batchSize: 10,
    timeouts: { activity: '1m', heartbeat: '10s' },
    retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
    ...overrides,
  });
}

/** The app's customers table as a target: system 'app', upsert by customer_id, internal id `id`. */
export function customerTarget(url: string, table: string, options: Partial<PostgresTargetOptions> = {}) {
  return postgresTarget({ url, table, key: 'customer_id', idColumn: 'id', system: 'app', ...options });
}

/** Inserts customers 1..n (ids from `from`), valid, with distinct microsecond timestamps. */
export async function seedCustomers(pool: pg.Pool, table: string, n: number, from = 1): Promise<void> {
  await pool.query(
    `insert into ${table} (id, email, name, score, updated_at)
     select g, 'c' || g || '@example.com', 'Customer ' || g, g % 100, timestamptz '2026-01-01' + g * interval '1 microsecond'
     from generate_series($1::int, $2::int) g`,
    [from, from + n - 1],
  );
}

/** Source and target as comparable rows: (id, email, name, score, updated_at as text). */
export async function sourceRows(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ r: string }>(`select concat_ws('|', id, email, name, score, updated_at::text) as r from ${table} order by id`);
  return rows.map((x) => x.r);
}

export async function targetRows(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ r: string }>(`select concat_ws('|', customer_id, email, name, score, source_updated_at::text) as r from ${table} order by customer_id`);
  return rows.map((x) => x.r);
}
