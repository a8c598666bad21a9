// npm run example orders-analytics: the incremental-package scenario. 5,000 orders go to the
// MariaDB warehouse and, through the 30-second schedule, to NATS JetStream; then 150 orders
// change or arrive and only those travel, both ways. Checked: the warehouse equals the shop
// row for row, and JetStream holds exactly one message per change.
import { connect, type NatsConnection } from 'nats';
import { defineExample } from '../support/define-example.js';
import { createOrders, createWarehouse, insertOrders, ORDERS_TABLE, WAREHOUSE_TABLE, warehouseUrl } from './tables.js';

const ORDERS = 5_000;
const NATS_URL = process.env.ORDERS_NATS_URL ?? 'nats://127.0.0.1:4222';
const NATS_STREAM = 'FERRY_EXAMPLE_ORDERS';
const WAREHOUSE_DB = 'ferry_example_orders';

/** Set before the config is loaded (databaseEnv covers the Postgres URL). */
process.env.ORDERS_WAREHOUSE_URL = warehouseUrl(WAREHOUSE_DB);
process.env.ORDERS_NATS_STREAM = NATS_STREAM;

async function messages(nc: NatsConnection): Promise<{ total: number; created: number; updated: number }> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(NATS_STREAM, { subjects_filter: '>' }).catch(() => undefined);
  const subjects = (info?.state.subjects ?? {}) as Record<string, number>;
  return { total: info?.state.messages ?? 0, created: subjects['shop.orders.events.created'] ?? 0, updated: subjects['shop.orders.events.updated'] ?? 0 };
}

async function waitFor<T>(what: () => Promise<T>, done: (v: T) => boolean, seconds: number): Promise<T> {
  let value = await what();
  for (let i = 0; i < seconds * 4 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 250));
    value = await what();
  }
  return value;
}

export default defineExample({
  description: 'orders (Postgres) to a MariaDB warehouse, incremental by updated_at, and to NATS JetStream every 30 s',
  config: 'ferry.config.ts',
  databaseEnv: ['ORDERS_DATABASE_URL'],
  async run({ db, ferry, check, say }) {
    await createOrders(db, ORDERS);
    const warehouse = await createWarehouse(WAREHOUSE_DB);
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(NATS_STREAM).catch(() => undefined);
    try {
      /** The shop's orders and the warehouse's facts, each as comparable text rows. */
      const same = async (label: string) => {
        const shop = await db.query<{ r: string }>(
          `select concat_ws('|', id, customer, status, total, jsonb_array_length(lines), (lines)::text, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')) as r from ${ORDERS_TABLE} order by id`,
        );
        const [facts] = await warehouse.conn.query(
          `select concat_ws('|', order_id, customer, status, total, line_count, json_extract(order_lines, '$'), source_updated_at) as r from ${WAREHOUSE_DB}.${WAREHOUSE_TABLE} order by order_id`,
        );
        const rows = (facts as { r: string }[]).map((f) => f.r);
        // JSON is compared as a value: the servers space it differently, and jsonb orders the keys
        const norm = (r: string) => {
          const parts = r.split('|');
          parts[5] = JSON.stringify(JSON.parse(parts[5] ?? 'null', (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v)));
          return parts.join('|');
        };
        const a = shop.rows.map((x) => norm(x.r));
        const b = rows.map(norm);
        const differing = a.filter((x, i) => x !== b[i]).length + Math.abs(a.length - b.length);
        check(label, differing === 0, `${differing} of ${a.length} rows differ; first: ${a.find((x, i) => x !== b[i])} vs ${b[a.findIndex((x, i) => x !== b[i])]}`);
      };

      say(`1. ${ORDERS} orders: the first load`);
      check('orders.warehouse runs', (await ferry('run', 'orders.warehouse', '--wait')) === 0);
      await same(`the warehouse holds the ${ORDERS} orders, equal row for row`);

      say('2. the 30-second schedule publishes them to NATS');
      check('ferry schedule apply', (await ferry('schedule', 'apply')) === 0);
      // the schedule's first tick comes within 30 s; a trigger makes it now
      check('ferry schedule trigger orders.events', (await ferry('schedule', 'trigger', 'orders.events')) === 0);
      const first = await waitFor(() => messages(nc), (m) => m.total >= ORDERS, 90);
      check(`JetStream holds one message per order (${first.total})`, first.total === ORDERS && first.created === ORDERS);

      say('3. 100 orders change, 50 arrive: only those travel');
      await db.query(`update ${ORDERS_TABLE} set status = 'shipped', updated_at = clock_timestamp() where id % 50 = 0`);
      await insertOrders(db, ORDERS + 1, 50);
      check('orders.warehouse runs again', (await ferry('run', 'orders.warehouse', '--wait', '--json')) === 0);
      const runs = await db.query<{ created: number; updated: number }>(`select created, updated from ferry_runs where stream = 'orders.warehouse' order by started_at desc limit 1`);
      check('the incremental run wrote 50 new and 100 changed orders', runs.rows[0]?.created === 50 && runs.rows[0]?.updated === 100, JSON.stringify(runs.rows[0]));
      await same('the warehouse equals the shop again');
      check('ferry schedule trigger orders.events', (await ferry('schedule', 'trigger', 'orders.events')) === 0);
      const second = await waitFor(() => messages(nc), (m) => m.total >= ORDERS + 150, 90);
      check(`JetStream got exactly the 150 changes (${second.created} created, ${second.updated} updated)`, second.total === ORDERS + 150 && second.created === ORDERS + 50 && second.updated === 100);
    } finally {
      await ferry('schedule', 'delete', 'orders.events').catch(() => 0);
      await jsm.streams.delete(NATS_STREAM).catch(() => undefined);
      await nc.close();
      await warehouse.drop();
    }
  },
});
