import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { StreamRegistry } from '../src/config/load-config.js';
import { ExchangeRuntime } from '../src/exchange/runtime.js';
import { startExchangeServer, type ExchangeServer } from '../src/exchange/server.js';
import { createFerryWorker, type FerryWorker } from '../src/worker.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { FIELD_TABLES, fieldPlan, insertEstimate } from './support/exchange.js';
import { createHarness, fixturePath, repoRoot, workflowBundlePath, type Harness } from './support/harness.js';

// ferry nodes add|list|remove and ferry exchange run|status|conflicts as real processes
// (bin/ferry.js) against a central database, a desktop database and a real worker.

describe('exchange CLI', () => {
  let harness: Harness;
  let central: TestDatabase;
  let desk: TestDatabase;
  let server: ExchangeServer;
  let worker: FerryWorker | undefined;
  let running: Promise<void> | undefined;
  let token = '';
  const plan = fieldPlan();

  before(async () => {
    harness = await createHarness('xcli');
    central = await createTestDatabase('xcli_central');
    desk = await createTestDatabase('xcli_desk');
    for (const d of [central, desk]) await d.pool.query(FIELD_TABLES);
    server = await startExchangeServer({ pool: central.pool, plan });
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await server?.close();
    await Promise.allSettled([central?.drop(), desk?.drop()]);
    await harness?.close();
  });

  const ferry = (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const { NODE_TEST_CONTEXT: _ctx, ...inherited } = process.env;
    const env = {
      ...inherited,
      FERRY_CONFIG: fixturePath('exchange-cli.config.ts'),
      DATABASE_URL: harness.db.url,
      TEMPORAL_ADDRESS: harness.settings.address,
      FERRY_TASK_QUEUE: harness.settings.taskQueue,
      FERRY_XCLI_CENTRAL_DB: central.url,
      FERRY_XCLI_DESK_DB: desk.url,
      FERRY_XCLI_CENTRAL_URL: server.url,
      FERRY_XCLI_TOKEN: token,
    };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/ferry.js', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  };

  it('adds a node, runs its exchanges, shows status and conflicts, removes it', async () => {
    const estimate = await insertEstimate(central.pool, { title: 'seeded', amount: '1.00' });
    const added = await ferry('nodes', 'add', 'desk1', '--name', 'Desktop 1', '--json');
    assert.equal(added.code, 0, added.stderr);
    const node = JSON.parse(added.stdout) as { id: string; code: string; token: string; initialLoad: number };
    assert.equal(node.code, 'desk1');
    assert.equal(node.initialLoad, 1);
    token = node.token;

    const runtime = new ExchangeRuntime(
      { plan, peripherals: [{ code: 'desk1', databaseUrl: desk.url, centralUrl: server.url, tokenEnv: 'TOKEN' }] },
      { env: { TOKEN: token } },
    );
    const bundle = workflowBundlePath();
    worker = await createFerryWorker({ settings: harness.settings, streams: new StreamRegistry([]), databaseUrl: harness.db.url, exchange: runtime, ...(bundle ? { workflowBundlePath: bundle } : {}) });
    running = worker.run();

    const first = await ferry('exchange', 'run', 'desk1', '--wait', '--json');
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as { status: string; mode: string; received: number };
    assert.deepEqual([summary.status, summary.mode, summary.received], ['succeeded', 'full', 1]);

    await central.pool.query(`update estimates set title = 'central', updated_at = '2026-03-01T00:00:00Z' where uuid = $1`, [estimate]);
    await desk.pool.query(`update estimates set title = 'desk', updated_at = '2026-03-02T00:00:00Z' where uuid = $1`, [estimate]);
    const second = await ferry('exchange', 'run', 'desk1', '--wait');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /exchange desk1: succeeded — sent 1, received \d+ entities in \d+ rounds/);

    const status = await ferry('exchange', 'status', '--json');
    assert.equal(status.code, 0, status.stderr);
    const rows = JSON.parse(status.stdout) as { code: string; self: boolean; pending: number; receivedPacketNo: number; lastExchangeIn: string | null }[];
    assert.deepEqual(rows.map((r) => [r.code, r.self]), [['central', true], ['desk1', false]]);
    assert.equal(rows[1]!.pending, 0);
    assert.ok(rows[1]!.receivedPacketNo >= 2 && rows[1]!.lastExchangeIn, JSON.stringify(rows[1]));
    const conflicts = await ferry('exchange', 'conflicts', '--json');
    const logged = JSON.parse(conflicts.stdout) as { entityUuid: string; policy: string; winner: string; local: { title: string }; incoming: { title: string } }[];
    assert.equal(logged.length, 1);
    assert.deepEqual([logged[0]!.entityUuid, logged[0]!.policy, logged[0]!.winner, logged[0]!.local.title, logged[0]!.incoming.title], [estimate, 'last-writer-wins', 'peripheral', 'central', 'desk']);

    const removed = await ferry('nodes', 'remove', 'desk1');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await central.pool.query(`select code from ferry_exchange_nodes where code = 'desk1'`)).rowCount, 0);
  });
});
