// Crash safety of the MariaDB and NATS JetStream targets (ARCHITECTURE.md,
// guarantee 1): a real worker in a child process is SIGKILLed in the middle of
// a batch — half of it written to MariaDB / published to JetStream, its
// bindings and checkpoint not committed — and at a random moment; a fresh
// worker resumes. MariaDB ends equal to the source row for row; JetStream
// holds exactly one message per change (the re-published half is dropped by
// the server as duplicates of its Nats-Msg-Id), none missing.
//
// Worker output goes to .ferry/connector-crash-workers-<database>.log.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { parseKey } from '../src/core/key.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { createMysqlDatabase, type MysqlTestDatabase } from './support/mysql-database.js';
import { NATS_URL, natsTestClient, type NatsTestClient } from './support/nats.js';
import { createSourceOrders, MYSQL_ORDERS_DDL, seedOrders, sourceOrderRows, targetOrderRow } from './support/orders.js';
import { waitFor, within, workerChildEnv, WorkerChildren } from './support/worker-children.js';

const ROWS = 3_000;
const BATCH = 200;
const CHANGED = 300;
const RUN_DEADLINE_MS = 150_000;

type Handle = WorkflowHandle<typeof syncStream>;

describe('crash safety of the MariaDB and NATS JetStream targets: a worker SIGKILLed mid-batch', () => {
  let h: Harness;
  let my: MysqlTestDatabase;
  let nats: NatsTestClient;
  let workers: WorkerChildren | undefined;
  let pauseDir: string;
  let source: { table: string; view: string };
  let jetStream: string;
  let mysqlStream: string;
  let natsStream: string;

  before(async () => {
    h = await createHarness('conn_crash');
    my = await createMysqlDatabase('conn_crash');
    nats = await natsTestClient();
    jetStream = nats.streamName('CRASH');
    mysqlStream = h.name('shop.orders->warehouse');
    natsStream = h.name('shop.orders->events');
    pauseDir = mkdtempSync(path.join(tmpdir(), 'ferry-pause-'));
    source = await createSourceOrders(h.db.pool);
    await seedOrders(h.db.pool, source.table, ROWS);
    await my.query(MYSQL_ORDERS_DDL('orders'));
    workers = new WorkerChildren(
      workerChildEnv(h, 'connector-crash.config.ts', {
        FERRY_CRASH_PAUSE_DIR: pauseDir,
        FERRY_CRASH_BATCH_SIZE: String(BATCH),
        FERRY_CRASH_SOURCE_VIEW: source.view,
        FERRY_CRASH_MYSQL_STREAM: mysqlStream,
        FERRY_CRASH_MYSQL_URL: my.url,
        FERRY_CRASH_NATS_STREAM: natsStream,
        FERRY_CRASH_NATS_URL: NATS_URL,
        FERRY_CRASH_JETSTREAM: jetStream,
        FERRY_CRASH_SUBJECT_PREFIX: `crash${jetStream.slice(-6).toLowerCase()}`,
      }),
      path.join(repoRoot, '.ferry', `connector-crash-workers-${h.db.name}.log`),
    );
    await workers.start();
  });

  after(async () => {
    await workers?.killAll();
    await h?.close();
    await my?.drop();
    await nats?.close();
    rmSync(pauseDir, { recursive: true, force: true });
  });

  const start = (stream: string): Promise<Handle> =>
    h.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue: h.settings.taskQueue, args: [{ stream }] });

  /** Kills the worker and starts a fresh one; the dead worker's sticky queue is reset (as crash.test.ts explains). */
  async function replaceWorker(handle: Handle): Promise<void> {
    await workers?.kill();
    await h.client.workflowService.resetStickyTaskQueue({ namespace: h.settings.namespace, execution: { workflowId: handle.workflowId } });
    await workers?.start();
  }

  /** Once `ready` holds, catches the target in the middle of a batch (half written) and kills the worker there. */
  async function killMidBatch(t: TestContext, handle: Handle, target: 'mysql' | 'nats', ready: () => Promise<boolean>): Promise<void> {
    await waitFor(`${target}: the run to get going`, async () => (await ready()) || undefined, RUN_DEADLINE_MS, 100);
    const armed = path.join(pauseDir, `${target}.armed`);
    const paused = path.join(pauseDir, `${target}.paused`);
    writeFileSync(armed, '');
    await waitFor(`${target}: an upsert to pause mid-batch`, async () => existsSync(paused) || undefined, RUN_DEADLINE_MS, 20);
    await workers?.kill();
    rmSync(armed);
    rmSync(paused);
    t.diagnostic(`${target}: worker SIGKILLed mid-batch (half of a batch of ${BATCH} written)`);
    await h.client.workflowService.resetStickyTaskQueue({ namespace: h.settings.namespace, execution: { workflowId: handle.workflowId } });
    await workers?.start();
  }

  async function killRandomly(t: TestContext, handle: Handle, target: string, ready: () => Promise<boolean>): Promise<void> {
    await waitFor(`${target}: progress`, async () => (await ready()) || undefined, RUN_DEADLINE_MS, 50);
    await sleep(Math.floor(Math.random() * 250));
    await replaceWorker(handle);
    t.diagnostic(`${target}: worker SIGKILLed at a random moment`);
  }

  const result = (handle: Handle): Promise<RunSummary> =>
    within(handle.result(), RUN_DEADLINE_MS, async () => {
      throw new Error(`run ${handle.workflowId} not finished after ${RUN_DEADLINE_MS} ms`);
    });

  const mysqlCount = async () => Number((await my.query<{ n: number }>(`select count(*) as n from orders`))[0]?.n);
  const messageCount = async () => (await nats.jsm.streams.info(jetStream).catch(() => undefined))?.state.messages ?? 0;

  async function assertMysqlEqualsSource(): Promise<void> {
    const target = (await my.query<Parameters<typeof targetOrderRow>[0]>(`select * from orders order by order_id`)).map(targetOrderRow);
    const expected = await sourceOrderRows(h.db.pool, source.table);
    assert.equal(target.length, expected.length, 'target row count');
    assert.deepEqual(target, expected, 'MariaDB equals the source row for row');
    const [d] = await my.query<{ n: number; d: number }>(`select count(*) as n, count(distinct order_id) as d from orders`);
    assert.equal(Number(d?.d), Number(d?.n), 'no duplicate order_id');
  }

  it(`MariaDB: a first run over ${ROWS} rows survives a kill mid-batch and one at random; then ${CHANGED} changed rows, with a kill mid-batch`, async (t) => {
    const t0 = Date.now();
    const handle = await start(mysqlStream);
    await killMidBatch(t, handle, 'mysql', async () => (await mysqlCount()) >= 600);
    await killRandomly(t, handle, 'mysql', async () => (await mysqlCount()) >= 1_800);
    const first = await result(handle);
    t.diagnostic(`mysql first run: ${JSON.stringify(first.counts)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.equal(first.status, 'succeeded', first.message);
    assert.deepEqual({ ...first.counts }, { created: ROWS, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    await assertMysqlEqualsSource();

    await seedOrders(h.db.pool, source.table, CHANGED, 101, 3600, 'v2');
    const changedBefore = async () => Number((await my.query<{ n: number }>(`select count(*) as n from orders where note like 'v2%'`))[0]?.n);
    const second = await start(mysqlStream);
    await killMidBatch(t, second, 'mysql', async () => (await changedBefore()) >= 0);
    const summary = await result(second);
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: CHANGED, skipped: 0, deleted: 0, failed: 0 });
    await assertMysqlEqualsSource();
  });

  it(`NATS: a first run over ${ROWS} rows survives a kill mid-batch and one at random: exactly one message per change; then ${CHANGED} updates, with a kill mid-batch`, async (t) => {
    const t0 = Date.now();
    const handle = await start(natsStream);
    await killMidBatch(t, handle, 'nats', async () => (await messageCount()) >= 600);
    await killRandomly(t, handle, 'nats', async () => (await messageCount()) >= 1_800);
    const first = await result(handle);
    t.diagnostic(`nats first run: ${JSON.stringify(first.counts)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.equal(first.status, 'succeeded', first.message);
    assert.deepEqual({ ...first.counts }, { created: ROWS, updated: 0, skipped: 0, deleted: 0, failed: 0 });

    const ids = Array.from({ length: ROWS }, (_, i) => String(i + 1));
    let messages = await nats.messages(jetStream);
    const keys = (op: string) => messages.filter((m) => m.subject.endsWith(`.${op}`)).map((m) => (parseKey(m.headers['Ferry-Key'] ?? '[]')[0] as string));
    assert.equal(messages.length, ROWS, 'one message per created record, no duplicates');
    assert.deepEqual([...keys('created')].sort(), [...ids].sort(), 'every record once');
    for (const m of messages.slice(0, 50)) assert.equal((JSON.parse(m.body) as { order_id: string }).order_id, parseKey(m.headers['Ferry-Key'] ?? '[]')[0]);

    await seedOrders(h.db.pool, source.table, CHANGED, 101, 7200, 'v3');
    const second = await start(natsStream);
    await killMidBatch(t, second, 'nats', async () => true);
    const summary = await result(second);
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: CHANGED, skipped: 0, deleted: 0, failed: 0 });
    messages = await nats.messages(jetStream);
    assert.equal(messages.length, ROWS + CHANGED, 'one more message per update');
    assert.deepEqual([...keys('updated')].sort(), Array.from({ length: CHANGED }, (_, i) => String(101 + i)).sort(), 'every update once');
    t.diagnostic(`nats: ${messages.length} messages for ${ROWS} creates and ${CHANGED} updates, ${workers?.started ?? 0} worker processes so far`);
  });
});
