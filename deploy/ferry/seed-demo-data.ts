// One-shot service of the compose stack (ferry-demo-data): creates the demo
// stream's tables (demo_crm_customers with FERRY_DEMO_ROWS rows, default 10000,
// and an empty demo_app_customers) in DATABASE_URL, unless they exist already,
// so that `ferry run demo.customers` has something to sync. Never drops data.
import pg from 'pg';
import { createDemoTables } from '../../demo/tables.js';
import { databaseUrl } from '../../src/state/db.js';

const rows = Number(process.env.FERRY_DEMO_ROWS ?? 10_000);
if (!Number.isInteger(rows) || rows < 1) throw new Error(`FERRY_DEMO_ROWS must be a positive integer, got ${process.env.FERRY_DEMO_ROWS}`);

const client = new pg.Client({ connectionString: databaseUrl(), application_name: 'ferry-demo-data' });
await client.connect();
try {
  const { rows: found } = await client.query<{ n: string }>(
    `select count(*) as n from pg_tables where schemaname = current_schema() and tablename in ('demo_crm_customers', 'demo_app_customers')`,
  );
  if (Number(found[0]?.n) > 0) {
    console.log('demo tables exist already: left as they are');
  } else {
    await createDemoTables(client, rows);
    console.log(`demo tables created: demo_crm_customers (${rows} rows), demo_app_customers (empty)`);
  }
} finally {
  await client.end();
}
