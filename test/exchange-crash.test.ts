// A worker SIGKILLed while it applies a packet: the apply is one transaction, so nothing of
// the packet is left half-written, and the activity's retry on a fresh worker converges.
// The worker is a child process (`node --import tsx src/worker.ts`); a trigger in the desktop
// database holds the apply's transaction open while "armed", so the kill lands mid-apply.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exchangeRounds } from '../src/exchange/peripheral.js';
import type { exchangeNode } from '../src/workflows/exchange.js';
import { contents, createExchangeWorld, fieldPlan, pendingChanges, type ExchangeWorld } from './support/exchange.js';
import { createHarness, fixturePath, repoRoot, workflowBundlePath, type Harness } from './support/harness.js';

const ENTITIES = 3000;

describe('exchange: a worker killed mid-apply', () => {
  let harness: Harness;
  let world: ExchangeWorld;
  const children = new Set<ChildProcess>();
  let logFile = '';

  before(async () => {
    harness = await createHarness('xcrash');
    world = await createExchangeWorld('xcrash', { desks: 1, plan: fieldPlan({ packetSize: 5000 }) });
    await exchangeRounds(world.desks[0]!.endpoint); // set up, nothing to load yet
    await world.central.pool.query(`insert into estimates (uuid, title, amount) select gen_random_uuid(), 'e' || i, i from generate_series(1, $1) i`, [ENTITIES]);
    const desk = world.desks[0]!.db.pool;
    await desk.query(`
      create table crash_hooks (armed boolean not null); insert into crash_hooks values (true);
      create function crash_hook() returns trigger language plpgsql as $$
      begin
        while (select armed from crash_hooks) loop perform pg_sleep(0.1); end loop;
        return null;
      end $$;
      create trigger crash_hook after insert on estimates for each statement execute function crash_hook();`);
    logFile = path.join(repoRoot, '.ferry', `exchange-crash-${world.desks[0]!.db.name}.log`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await world?.close();
    await harness?.close();
  });

  async function startWorker(): Promise<ChildProcess> {
    const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    const bundle = workflowBundlePath();
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', fd, fd],
      env: {
        ...env,
        DATABASE_URL: harness.db.url,
        FERRY_CONFIG: fixturePath('exchange-crash.config.ts'),
        FERRY_TASK_QUEUE: harness.settings.taskQueue,
        TEMPORAL_ADDRESS: harness.settings.address,
        FERRY_XCRASH_DESK_URL: world.desks[0]!.db.url,
        FERRY_XCRASH_CENTRAL_URL: world.server.url,
        FERRY_XCRASH_TOKEN: world.tokens.desk1!,
        ...(bundle ? { FERRY_WORKFLOW_BUNDLE: bundle } : {}),
      },
    });
    closeSync(fd);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  const sleepingApply = async (): Promise<number | undefined> =>
    (
      await world.central.pool.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = $1 and wait_event = 'PgSleep' and query ilike '%insert into "estimates"%'`,
        [world.desks[0]!.db.name],
      )
    ).rows[0]?.pid;

  it('leaves nothing half-applied and converges on the retry', async () => {
    const desk = world.desks[0]!.db.pool;
    const receivedBefore = (await desk.query<{ n: string }>('select received_packet_no as n from ferry_exchange_nodes where is_central')).rows[0]!.n;
    const first = await startWorker();
    const handle = await harness.client.workflow.start<typeof exchangeNode>('exchangeNode', {
      workflowId: `exchange:desk1-${harness.name('crash')}`,
      taskQueue: harness.settings.taskQueue,
      args: [{ node: 'desk1' }],
    });
    let pid: number | undefined;
    for (const deadline = Date.now() + 90_000; !(pid = await sleepingApply()); ) {
      if (Date.now() > deadline) assert.fail(`the apply never reached the hook; worker log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      await sleep(100);
    }
    // The apply's transaction has written the estimates and waits in the hook: kill the worker there.
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await desk.query('update crash_hooks set armed = false');
    // Its backend finds the client gone and rolls back: none of the packet is visible, and it is not recorded as received.
    for (const deadline = Date.now() + 30_000; (await desk.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount; ) {
      if (Date.now() > deadline) assert.fail('the killed worker’s transaction is still open');
      await sleep(100);
    }
    assert.equal(Number((await desk.query<{ n: string }>('select count(*) as n from estimates')).rows[0]!.n), 0, 'nothing of the packet was committed');
    assert.equal((await desk.query<{ n: string }>('select received_packet_no as n from ferry_exchange_nodes where is_central')).rows[0]!.n, receivedBefore);

    await startWorker();
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.received, ENTITIES);
    assert.deepEqual(await contents(desk), await contents(world.central.pool));
    assert.equal(await pendingChanges(desk), 0);
    assert.equal(await pendingChanges(world.central.pool), 0);
    const applied = await desk.query<{ n: string }>(`select count(*) as n from ferry_exchange_packets where direction = 'in' and outcome = 'applied' and entities = $1`, [ENTITIES]);
    assert.equal(Number(applied.rows[0]!.n), 1, 'the packet was applied once');
  });
});
