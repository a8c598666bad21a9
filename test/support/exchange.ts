import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { defineExchange, type ExchangeDefinition, type ExchangeOptions } from '../../src/exchange/define-exchange.js';
import { addNode } from '../../src/exchange/nodes.js';
import { initPeripheral, type PeripheralEndpoint, type Post } from '../../src/exchange/peripheral.js';
import { installExchange } from '../../src/exchange/schema.js';
import { startExchangeServer, type ExchangeServer } from '../../src/exchange/server.js';
import { StreamRegistry } from '../../src/config/load-config.js';
import { ExchangeRuntime, type PeripheralNodeConfig } from '../../src/exchange/runtime.js';
import { createFerryWorker } from '../../src/worker.js';
import type { ExchangeSummary } from '../../src/workflows/exchange-contracts.js';
import type { exchangeNode } from '../../src/workflows/exchange.js';
import { exchangeRunName } from '../../src/workflows/ids.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { workflowBundlePath, type Harness } from './harness.js';

/**
 * Three real Postgres databases — a central node and two desktops — holding
 * daily reports with lines, estimates and works, the central node's HTTP
 * endpoint on a free port, and both desktops registered and set up.
 */

export const FIELD_TABLES = `
  create table daily_reports (
    id bigserial primary key, uuid uuid not null unique, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    report_date date, brigade text, note text, hours numeric(10,2));
  create table daily_report_lines (
    id bigserial primary key, uuid uuid not null unique, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    report_uuid uuid not null references daily_reports (uuid), work text, quantity numeric(14,3));
  create table estimates (
    uuid uuid primary key, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    title text, amount numeric(16,2), status text);
  create table works (
    uuid uuid primary key, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    name text, unit text, price numeric);
`;

export const EXCHANGED_TABLES = ['daily_reports', 'daily_report_lines', 'estimates', 'works'] as const;

export function fieldPlan(overrides: Partial<ExchangeOptions> = {}, policies: Partial<Record<'DailyReport' | 'Estimate' | 'Work', NonNullable<ExchangeOptions['entities'][string]['conflict']>>> = {}): ExchangeDefinition {
  return defineExchange({
    name: 'field-reports',
    schemaVersion: '1.0.0',
    packetSize: 500,
    entities: {
      DailyReport: {
        table: 'daily_reports',
        columns: ['report_date', 'brigade', 'note', 'hours'],
        lines: { lines: { table: 'daily_report_lines', parent: 'report_uuid', columns: ['work', 'quantity'] } },
        conflict: policies.DailyReport ?? 'central-wins',
      },
      Estimate: { table: 'estimates', columns: ['title', 'amount', 'status'], conflict: policies.Estimate ?? 'last-writer-wins' },
      Work: { table: 'works', columns: ['name', 'unit', 'price'], conflict: policies.Work ?? 'merge' },
    },
    ...overrides,
  });
}

export interface Desk {
  code: string;
  db: TestDatabase;
  endpoint: PeripheralEndpoint;
}

export interface ExchangeWorld {
  plan: ExchangeDefinition;
  central: TestDatabase;
  server: ExchangeServer;
  desks: Desk[];
  tokens: Record<string, string>;
  /** every database, central first */
  all(): TestDatabase[];
  close(): Promise<void>;
}

export async function createExchangeWorld(label: string, options: { plan?: ExchangeDefinition; desks?: number; seedCentral?: (pool: pg.Pool) => Promise<void>; post?: Post } = {}): Promise<ExchangeWorld> {
  const plan = options.plan ?? fieldPlan();
  const central = await createTestDatabase(`${label}_central`);
  const desks: Desk[] = [];
  let server: ExchangeServer | undefined;
  try {
    await central.pool.query(FIELD_TABLES);
    await installExchange(central.pool, plan, { code: 'central', isCentral: true });
    await options.seedCentral?.(central.pool);
    server = await startExchangeServer({ pool: central.pool, plan });
    const tokens: Record<string, string> = {};
    for (let i = 1; i <= (options.desks ?? 2); i++) {
      const code = `desk${i}`;
      const db = await createTestDatabase(`${label}_${code}`);
      await db.pool.query(FIELD_TABLES);
      const added = await addNode(central.pool, plan, { code, name: `Desktop ${i}` });
      tokens[code] = added.token;
      const endpoint: PeripheralEndpoint = { code, pool: db.pool, plan, centralUrl: server.url, token: added.token, ...(options.post ? { post: options.post } : {}) };
      await initPeripheral(endpoint);
      desks.push({ code, db, endpoint });
    }
    const s = server;
    return {
      plan,
      central,
      server: s,
      desks,
      tokens,
      all: () => [central, ...desks.map((d) => d.db)],
      async close() {
        await s.close();
        await Promise.allSettled([central.drop(), ...desks.map((d) => d.db.drop())]);
      },
    };
  } catch (err) {
    await server?.close();
    await Promise.allSettled([central.drop(), ...desks.map((d) => d.db.drop())]);
    throw err;
  }
}

/** The exchanged contents of one database, as comparable text (local serial ids left out). */
export async function contents(pool: pg.Pool): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const client = await pool.connect();
  try {
    await client.query(`set timezone = 'UTC'`);
    for (const t of EXCHANGED_TABLES) {
      const r = await client.query<{ rows: string }>(`select coalesce(jsonb_agg(to_jsonb(t) - 'id' order by t.uuid), '[]')::text as rows from ${t} t`);
      out[t] = r.rows[0]!.rows;
    }
  } finally {
    client.release();
  }
  return out;
}

export async function pendingChanges(pool: pg.Pool): Promise<number> {
  return Number((await pool.query<{ n: string }>('select count(*) as n from ferry_exchange_changes')).rows[0]!.n);
}

export async function conflictLog(pool: pg.Pool): Promise<{ entity_type: string; entity_uuid: string; kind: string; policy: string; winner: string; local_version: Record<string, unknown>; incoming_version: Record<string, unknown>; result: Record<string, unknown> }[]> {
  return (await pool.query('select entity_type, entity_uuid::text, kind, policy, winner, local_version, incoming_version, result from ferry_exchange_conflicts order by id')).rows;
}

export const newUuid = (): string => randomUUID();

// Small edits, as an application would make them (the triggers do the rest).

export async function insertReport(pool: pg.Pool, r: { uuid?: string; brigade: string; note?: string; hours?: string; lines?: { uuid?: string; work: string; quantity: string }[] }): Promise<string> {
  const uuid = r.uuid ?? newUuid();
  await pool.query('insert into daily_reports (uuid, report_date, brigade, note, hours) values ($1, current_date, $2, $3, $4)', [uuid, r.brigade, r.note ?? null, r.hours ?? null]);
  for (const l of r.lines ?? []) await pool.query('insert into daily_report_lines (uuid, report_uuid, work, quantity) values ($1, $2, $3, $4)', [l.uuid ?? newUuid(), uuid, l.work, l.quantity]);
  return uuid;
}

export async function insertEstimate(pool: pg.Pool, e: { uuid?: string; title: string; amount: string }): Promise<string> {
  const uuid = e.uuid ?? newUuid();
  await pool.query('insert into estimates (uuid, title, amount, status) values ($1, $2, $3, $4)', [uuid, e.title, e.amount, 'draft']);
  return uuid;
}

export async function insertWork(pool: pg.Pool, w: { uuid?: string; name: string; unit: string; price: string }): Promise<string> {
  const uuid = w.uuid ?? newUuid();
  await pool.query('insert into works (uuid, name, unit, price) values ($1, $2, $3, $4)', [uuid, w.name, w.unit, w.price]);
  return uuid;
}

/**
 * A real worker running the exchange workflows of the world's desktops (tokens in
 * TOKEN_<CODE>), and a way to run one exchange; `extra` adds nodes (e.g. a wrong token).
 */
export async function startExchangeWorker(
  harness: Harness,
  world: ExchangeWorld,
  extra: { peripherals?: PeripheralNodeConfig[]; env?: Record<string, string> } = {},
): Promise<{ exchange(node: string): Promise<ExchangeSummary>; stop(): Promise<void> }> {
  const env: Record<string, string> = { ...extra.env };
  for (const [code, token] of Object.entries(world.tokens)) env[`TOKEN_${code.toUpperCase()}`] = token;
  const runtime = new ExchangeRuntime(
    {
      plan: world.plan,
      central: { databaseUrl: world.central.url },
      peripherals: [...world.desks.map((d) => ({ code: d.code, databaseUrl: d.db.url, centralUrl: world.server.url, tokenEnv: `TOKEN_${d.code.toUpperCase()}` })), ...(extra.peripherals ?? [])],
    },
    { env },
  );
  const bundle = workflowBundlePath();
  const worker = await createFerryWorker({ settings: harness.settings, streams: new StreamRegistry([]), databaseUrl: harness.db.url, exchange: runtime, ...(bundle ? { workflowBundlePath: bundle } : {}) });
  const running = worker.run();
  return {
    async exchange(node) {
      const handle = await harness.client.workflow.start<typeof exchangeNode>('exchangeNode', {
        workflowId: `${exchangeRunName(node)}-${harness.name('x')}`,
        taskQueue: harness.settings.taskQueue,
        args: [{ node }],
      });
      return handle.result();
    },
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
