// The incremental-package scenario's data: the shop's `orders` in Postgres (order lines as JSON,
// money as numeric, timestamps with microseconds), the warehouse's `fact_orders` in MariaDB.
import mysql from 'mysql2/promise';
import type pg from 'pg';

export const ORDERS_TABLE = 'orders';
export const WAREHOUSE_TABLE = 'fact_orders';

export async function createOrders(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(`
    create table ${ORDERS_TABLE} (
      id bigint primary key,
      customer text not null,
      status text not null,
      total numeric(14, 2) not null,
      lines jsonb not null,
      updated_at timestamptz not null default clock_timestamp()
    );
    create index on ${ORDERS_TABLE} (updated_at, id);`);
  await insertOrders(pool, 1, count);
}

/** Orders from..from+count-1, each with 1-4 lines, stamped a microsecond apart. */
export async function insertOrders(pool: pg.Pool, from: number, count: number): Promise<void> {
  await pool.query(
    `insert into ${ORDERS_TABLE} (id, customer, status, total, lines, updated_at)
     select g, 'customer-' || (g % 997), (array['new', 'paid', 'shipped'])[1 + g % 3],
            (select sum(round((q * p)::numeric, 2)) from (select 1 + (g + i) % 5 as q, 9.99 + ((g * i) % 40) as p from generate_series(1, 1 + g % 4) i) l),
            (select jsonb_agg(jsonb_build_object('sku', 'SKU-' || ((g * i) % 500), 'qty', 1 + (g + i) % 5, 'price', 9.99 + ((g * i) % 40))) from generate_series(1, 1 + g % 4) i),
            clock_timestamp() + g * interval '1 microsecond'
     from generate_series($1::bigint, $2::bigint) g`,
    [from, from + count - 1],
  );
}

export function warehouseUrl(database: string): string {
  return `${process.env.FERRY_EXAMPLE_MYSQL ?? 'mysql://root@127.0.0.1:3306'}/${database}`;
}

/** A fresh warehouse database with its fact table; returns a way to drop it. */
export async function createWarehouse(database: string): Promise<{ conn: mysql.Connection; drop: () => Promise<void> }> {
  const server = process.env.FERRY_EXAMPLE_MYSQL ?? 'mysql://root@127.0.0.1:3306';
  const conn = await mysql.createConnection({ uri: server, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  await conn
    .query(`drop database if exists \`${database}\`; create database \`${database}\`; use \`${database}\`;
    create table ${WAREHOUSE_TABLE} (
      order_id bigint primary key,
      customer varchar(100) not null,
      status varchar(20) not null,
      total decimal(14, 2) not null,
      line_count int not null,
      order_lines json not null,
      source_updated_at datetime(6) not null
    )`)
    .catch(async (err: unknown) => {
      await conn.end();
      throw err;
    });
  return {
    conn,
    drop: async () => {
      await conn.query(`drop database if exists \`${database}\``);
      await conn.end();
    },
  };
}
