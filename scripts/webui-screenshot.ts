// The Web UI screenshot in docs/img/: a real Temporal Web UI, real ferry runs,
// a real headless browser. Run by scripts/webui-screenshot.sh, which starts the
// dev server (with the UI and ferry's search attributes) and stops it again.
//
// What it does: a throwaway database with two streams, demo.customers and
// demo.orders; demo.customers succeeds once, then its target loses a column and
// the next run fails; demo.orders succeeds. Then chromium (headless) opens the
// Web UI's run list filtered by ferry's search attributes
// (FerryStream = "demo.customers" and FerryStatus = "failed") and saves a PNG.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import { StreamRegistry } from '../src/config/load-config.js';
import { defineStream } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { connectClient, temporalSettings } from '../src/temporal.js';
import { createFerryWorker } from '../src/worker.js';
import type { syncStream } from '../src/workflows/sync-stream.js';

const adminUrl = process.env.FERRY_SCREENSHOT_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'ferry_webui_screenshot';
const url = adminUrl.replace(/\/[^/]*$/, `/${database}`);
const uiPort = Number(process.env.FERRY_SCREENSHOT_UI_PORT ?? 8233);
const out = path.resolve(process.env.FERRY_SCREENSHOT_OUT ?? 'docs/img/webui-failed-runs.png');
const browser = process.env.CHROMIUM ?? 'chromium-headless-shell';
const query = 'FerryStream = "demo.customers" and FerryStatus = "failed"';

async function prepareDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  await admin.end();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(`
    create table crm_customers (id bigint primary key, email text not null, name text not null, updated_at timestamptz not null default clock_timestamp());
    create table app_customers (id bigint primary key, email text not null, name text not null);
    create table crm_orders (id bigint primary key, customer_id bigint not null, total numeric not null, updated_at timestamptz not null default clock_timestamp());
    create table app_orders (id bigint primary key, customer_id bigint not null, total numeric not null);
    insert into crm_customers (id, email, name) select g, 'c' || g || '@example.com', 'Customer ' || g from generate_series(1, 500) g;
    insert into crm_orders (id, customer_id, total) select g, 1 + g % 500, g * 1.5 from generate_series(1, 2000) g;`);
  await db.end();
}

const customers = defineStream({
  name: 'demo.customers',
  source: postgresSource({ url, table: 'crm_customers', system: 'crm', cursor: { column: 'updated_at', kind: 'timestamp' } }),
  schema: z.object({ id: z.string(), email: z.string(), name: z.string(), updated_at: z.string() }),
  map: (c) => ({ kind: 'customer', fields: { id: c.id, email: c.email, name: c.name } }),
  target: postgresTarget({ url, table: 'app_customers', key: 'id', system: 'app' }),
  key: 'id',
  batchSize: 100,
  retry: { maximumAttempts: 1 },
});

const orders = defineStream({
  name: 'demo.orders',
  source: postgresSource({ url, table: 'crm_orders', system: 'crm', cursor: { column: 'updated_at', kind: 'timestamp' } }),
  schema: z.object({ id: z.string(), customer_id: z.string(), total: z.string(), updated_at: z.string() }),
  map: (o) => ({ kind: 'order', fields: { id: o.id, customer_id: o.customer_id, total: o.total } }),
  target: postgresTarget({ url, table: 'app_orders', key: 'id', system: 'app' }),
  key: 'id',
  batchSize: 500,
});

async function main(): Promise<void> {
  await prepareDatabase();
  const settings = temporalSettings();
  const streams = new StreamRegistry([customers, orders], []);
  const worker = await createFerryWorker({ settings, streams, databaseUrl: url });
  const running = worker.run();
  const { client, close } = await connectClient(settings);
  const run = async (stream: string) => {
    const handle = await client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue: settings.taskQueue, args: [{ stream }] });
    const status = await handle.result().then((s) => s.status, () => 'failed');
    console.error(`webui-screenshot: ${stream}: ${status}`);
  };
  try {
    await run('demo.customers');
    await run('demo.orders');
    // the target loses a column: the next run of demo.customers fails (a configuration error, not retried)
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('alter table app_customers rename column email to email_address');
    await db.query(`update crm_customers set name = name || '!', updated_at = clock_timestamp() where id <= 10`);
    await db.end();
    await run('demo.customers');
  } finally {
    worker.shutdown();
    await running;
    await close();
  }
  await sleep(2_000); // the visibility store catches up with the last run's attributes

  const page = `http://127.0.0.1:${uiPort}/namespaces/${encodeURIComponent(settings.namespace)}/workflows?query=${encodeURIComponent(query)}`;
  mkdirSync(path.dirname(out), { recursive: true });
  // --virtual-time-budget lets the single-page app fetch and render before the shot
  execFileSync(browser, ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--log-level=3', '--window-size=1600,700', '--virtual-time-budget=20000', `--screenshot=${out}`, page], { stdio: 'inherit', timeout: 120_000 });
  console.error(`webui-screenshot: ${page}\nwebui-screenshot: saved ${out}`);

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
