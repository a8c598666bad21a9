// The orders world of the connector tests: an `orders` table in Postgres
// (system A) with the values that break naive copies — DECIMAL(30,10), BIGINT
// extremes, utf8mb4 text, JSON with numbers no double holds, microsecond
// timestamps — streamed into a MariaDB table or published to NATS JetStream.
import type pg from 'pg';
import { z } from 'zod';
import { defineStream, type StreamOptions } from '../../src/config/define-stream.js';
import { mysqlTarget } from '../../src/connectors/mysql/target.js';
import { natsTarget } from '../../src/connectors/nats/target.js';
import { postgresSource } from '../../src/connectors/postgres/source.js';
import type { Target } from '../../src/connectors/target.js';
import { parseJsonColumn, stringifyJson } from '../../src/core/json-values.js';

export async function createSourceOrders(pool: pg.Pool, table = 'src_orders'): Promise<{ table: string; view: string }> {
  const view = `${table}_v`;
  await pool.query(`
    create table ${table} (
      id bigint primary key,
      amount numeric(30,10),
      big bigint,
      note text,
      payload jsonb,
      updated_at timestamptz not null
    );
    create index on ${table} (updated_at, id);
    -- The source reads the JSON as text, parsed exactly by the mapper (parseJsonColumn): pg's
    -- default jsonb parser (JSON.parse) would round the big numbers before the stream sees them.
    create view ${view} as select id, amount, big, note, payload::text as payload_json, updated_at from ${table};`);
  return { table, view };
}

/** The MariaDB warehouse table: an AUTO_INCREMENT id (B's internal id), upsert by order_id. */
export const MYSQL_ORDERS_DDL = (table: string) => `
  create table ${table} (
    id bigint auto_increment primary key,
    order_id bigint not null unique,
    amount decimal(30,10),
    big bigint,
    note text,
    payload json,
    source_updated_at datetime(6) not null,
    deleted_at datetime(6)
  ) character set utf8mb4 collate utf8mb4_unicode_ci`;

/**
 * Orders from..from+n-1, with distinct microsecond timestamps (`offset`
 * moves them later, for updates); the first ones hold the extremes.
 */
export async function seedOrders(pool: pg.Pool, table: string, n: number, from = 1, offsetSeconds = 0, tag = 'v1'): Promise<void> {
  await pool.query(
    `insert into ${table} (id, amount, big, note, payload, updated_at)
     select g,
       case g % 4 when 0 then 12345678901234567890.1234567891 when 1 then -0.0000000001 when 2 then 0 else g * 1.5 end,
       case g % 3 when 0 then -9223372036854775808 when 1 then 9223372036854775807 else g::bigint * 1000003 end,
       $4 || ' заказ ' || g || ' 😀 ✓ 日本語',
       jsonb_build_object('n', 12345678901234567890123 + g, 'f', 0.1000000000000000055511151231257827, 'lines', jsonb_build_array(jsonb_build_object('sku', 'é' || g, 'qty', 2.50)), 'none', null),
       timestamptz '2026-01-01 00:00:00+00' + $3 * interval '1 second' + g * interval '1 microsecond'
     from generate_series($1::int, $2::int) g
     on conflict (id) do update set amount = excluded.amount, big = excluded.big, note = excluded.note, payload = excluded.payload, updated_at = excluded.updated_at`,
    [from, from + n - 1, offsetSeconds, tag],
  );
}

/** Source rows as comparable text: id|amount|big|note|payload (exact JSON text)|updated_at in UTC with microseconds. */
export async function sourceOrderRows(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string; amount: string | null; big: string | null; note: string | null; payload: string | null; at: string }>(
    `select id, amount::text as amount, big::text as big, note, payload::text as payload, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') as at from ${table} order by id`,
  );
  return rows.map((r) => [r.id, r.amount, r.big, r.note, r.payload === null ? null : stringifyJson(parseJsonColumn(r.payload)), r.at].join('|'));
}

/** The same text from the MariaDB table (read with a pool that keeps BIGINT, DECIMAL, dates and JSON as text). */
export function targetOrderRow(r: { order_id: string; amount: string | null; big: string | null; note: string | null; payload: string | null; source_updated_at: string }): string {
  return [r.order_id, r.amount, r.big, r.note, r.payload === null ? null : stringifyJson(parseJsonColumn(r.payload)), r.source_updated_at].join('|');
}

export const orderSchema = z.object({
  id: z.string(),
  amount: z.string().nullable(),
  big: z.string().nullable(),
  note: z.string().nullable(),
  payload_json: z.string().nullable(),
  updated_at: z.string(),
});

/** A Postgres orders view -> target stream, incremental by updated_at; the projection is the warehouse row. */
export function orderStream(name: string, pgUrl: string, view: string, target: Target, overrides: Partial<StreamOptions<typeof orderSchema>> = {}) {
  return defineStream({
    name,
    source: postgresSource({ url: pgUrl, table: view, system: 'shop', cursor: { column: 'updated_at', kind: 'timestamp' } }),
    schema: orderSchema,
    map: (o) => ({
      kind: 'order',
      fields: {
        order_id: o.id,
        amount: o.amount,
        big: o.big,
        note: o.note,
        payload: o.payload_json === null ? null : parseJsonColumn(o.payload_json),
        source_updated_at: o.updated_at,
      },
    }),
    target,
    key: 'id',
    batchSize: 1_000,
    timeouts: { activity: '1m', heartbeat: '10s' },
    retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
    ...overrides,
  });
}

export const mysqlOrdersTarget = (url: string, table: string) =>
  mysqlTarget({ url, table, key: 'order_id', idColumn: 'id', system: 'warehouse', softDelete: { column: 'deleted_at' } });

export const natsOrdersTarget = (servers: string, jetStream: string, subjectPrefix: string) =>
  natsTarget({ servers, system: 'events', jetStream, subjectPrefix, duplicateWindow: '10m' });
