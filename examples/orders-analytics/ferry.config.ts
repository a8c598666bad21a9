// The incremental-package scenario as ferry streams (examples/orders-analytics):
//   orders.warehouse — the shop's orders (Postgres) into the warehouse (MariaDB), incremental by
//                      updated_at, 10,000 per batch: only what changed since the last run;
//   orders.events    — the same changes published to NATS JetStream (one message per created or
//                      updated order on shop.orders.events.<op>), every 30 seconds.
//   npm run example orders-analytics
// Environment: ORDERS_DATABASE_URL (Postgres), ORDERS_WAREHOUSE_URL (mysql://…), ORDERS_NATS_URL,
// ORDERS_NATS_STREAM.
import { z } from 'zod';
import { defineConfig, defineStream, mysqlTarget, natsTarget, postgresSource } from '../../src/index.js';
import { ORDERS_TABLE, WAREHOUSE_TABLE } from './tables.js';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const shop = () =>
  postgresSource({
    url: env('ORDERS_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/ferry_orders'),
    table: ORDERS_TABLE,
    system: 'shop',
    cursor: { column: 'updated_at', kind: 'timestamp' },
    lookBack: '1 minute',
  });

const order = z.object({
  id: z.string().regex(/^\d+$/),
  customer: z.string().min(1),
  status: z.enum(['new', 'paid', 'shipped', 'cancelled']),
  total: z.string(),
  lines: z.array(z.looseObject({ sku: z.string(), qty: z.number().int().positive() })).min(1),
  updated_at: z.string(),
});

export const warehouse = defineStream({
  name: 'orders.warehouse',
  source: shop(),
  schema: order,
  map: (o) => ({
    kind: 'fact_order',
    fields: { order_id: o.id, customer: o.customer, status: o.status, total: o.total, line_count: o.lines.length, order_lines: o.lines, source_updated_at: o.updated_at },
  }),
  target: mysqlTarget({ url: env('ORDERS_WAREHOUSE_URL', 'mysql://root@127.0.0.1:3306/ferry_orders'), table: WAREHOUSE_TABLE, key: 'order_id', system: 'warehouse' }),
  key: 'id',
  batchSize: 10_000,
});

export const events = defineStream({
  name: 'orders.events',
  source: shop(),
  schema: order,
  target: natsTarget({ servers: env('ORDERS_NATS_URL', 'nats://127.0.0.1:4222'), system: 'analytics', jetStream: env('ORDERS_NATS_STREAM', 'FERRY_ORDERS'), subjectPrefix: 'shop' }),
  key: 'id',
  batchSize: 10_000,
  schedule: { every: '30s' },
});

export default defineConfig({ streams: [warehouse, events] });
