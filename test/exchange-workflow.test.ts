import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { ExchangeSummary } from '../src/workflows/exchange-contracts.js';
import { conflictLog, contents, createExchangeWorld, insertEstimate, insertReport, insertWork, pendingChanges, startExchangeWorker, type ExchangeWorld } from './support/exchange.js';
import { createHarness, type Harness } from './support/harness.js';
import { StreamRegistry } from '../src/config/load-config.js';
import { scheduleSchema } from '../src/config/schedule.js';
import { applySchedules } from '../src/schedules/apply.js';

// The exchange as Temporal runs it: one exchangeNode workflow per desktop,
// its steps activities on a real worker, three real databases.

describe('exchange workflow', () => {
  let harness: Harness;
  let world: ExchangeWorld;
  let workers: Awaited<ReturnType<typeof startExchangeWorker>>;

  before(async () => {
    harness = await createHarness('xwf');
    world = await createExchangeWorld('xwf', {
      seedCentral: async (pool) => {
        for (let i = 0; i < 30; i++) await insertReport(pool, { brigade: `b${i}`, lines: [{ work: 'digging', quantity: `${i}.5` }, { work: 'paving', quantity: '1' }] });
      },
    });
    // desk3: desk2's database with a token the central node does not know
    workers = await startExchangeWorker(harness, world, {
      peripherals: [{ code: 'desk3', databaseUrl: world.desks[1]!.db.url, centralUrl: world.server.url, tokenEnv: 'TOKEN_BAD' }],
      env: { TOKEN_BAD: 'wrong' },
    });
  });
  after(async () => {
    await workers?.stop();
    await world?.close();
    await harness?.close();
  });

  const exchange = (node: string): Promise<ExchangeSummary> => workers.exchange(node);

  it('gives each desktop its initial load, then converges concurrent edits on all three nodes', async () => {
    const [first1, first2] = await Promise.all([exchange('desk1'), exchange('desk2')]);
    assert.equal(first1.mode, 'full');
    assert.equal(first1.status, 'succeeded');
    assert.equal(first1.received, 30);
    assert.equal(first2.received, 30);
    assert.equal(first1.counts.created, 30);

    const pools = world.all().map((d) => d.pool);
    const shared = await world.central.pool.query<{ uuid: string }>('select uuid::text from daily_reports order by uuid limit 3');
    const [r0, r1, r2] = shared.rows.map((r) => r.uuid) as [string, string, string];
    for (const [i, pool] of pools.entries()) {
      await insertEstimate(pool, { title: `estimate of node ${i}`, amount: `${i}00.00` });
      await insertWork(pool, { name: `work of node ${i}`, unit: 'h', price: '12' });
      await insertReport(pool, { brigade: `node ${i}`, lines: [{ work: 'w', quantity: '2' }] });
      // the same report edited on all three nodes (a conflict), and different reports on each (none)
      await pool.query('update daily_reports set note = $2 where uuid = $1', [r0, `note of node ${i}`]);
      await pool.query('update daily_reports set hours = $2 where uuid = $1', [[r0, r1, r2][i], i + 1]);
    }
    await pools[1]!.query('update daily_report_lines set is_deleted = true where report_uuid = $1 and work = $2', [r1, 'paving']);

    const round1 = await Promise.all([exchange('desk1'), exchange('desk2')]);
    assert.ok(round1.every((s) => s.status === 'succeeded' && s.mode === 'incremental'));
    await Promise.all([exchange('desk1'), exchange('desk2')]);
    const [central, d1, d2] = await Promise.all(pools.map((p) => contents(p)));
    assert.deepEqual(d1, central);
    assert.deepEqual(d2, central);
    for (const p of pools) assert.equal(await pendingChanges(p), 0);
    const note = await world.central.pool.query<{ note: string }>('select note from daily_reports where uuid = $1', [r0]);
    assert.equal(note.rows[0]!.note, 'note of node 0', 'central wins the report edited everywhere');
    const logged = [...(await conflictLog(world.central.pool)), ...(await conflictLog(world.desks[0]!.db.pool)), ...(await conflictLog(world.desks[1]!.db.pool))];
    assert.deepEqual([...new Set(logged.map((c) => c.entity_uuid))], [r0]);
    assert.equal(JSON.parse(central!.estimates!).length, 3);

    const runs = await harness.db.pool.query<{ stream: string; status: string; mode: string; created: number }>(
      `select stream, status, mode, created from ferry_runs where stream = 'exchange:desk1' order by started_at`,
    );
    assert.deepEqual(runs.rows.map((r) => [r.status, r.mode]), [['succeeded', 'full'], ['succeeded', 'incremental'], ['succeeded', 'incremental']]);
  });

  it('fails at once, without retrying, when the central node refuses the token', async () => {
    const started = Date.now();
    const err = await exchange('desk3').then(
      () => assert.fail('succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), /exchange of node "desk3" failed: .*(unknown node token|HTTP 401)/);
    assert.ok(Date.now() - started < 15_000, 'not retried');
    const run = await harness.db.pool.query<{ status: string; error: string }>(`select status, error from ferry_runs where stream = 'exchange:desk3'`);
    assert.equal(run.rows[0]!.status, 'failed');
    assert.match(run.rows[0]!.error, /401/);
  });

  it('runs a node\'s exchange from its Temporal Schedule (ferry schedule apply, then a trigger)', async () => {
    const registry = new StreamRegistry([], [], [{ node: 'desk2', schedule: scheduleSchema.parse({ every: '1h' }) }]);
    const applied = await applySchedules(harness.client, registry, harness.settings.taskQueue);
    assert.deepEqual(applied.map((a) => [a.scheduleId, a.kind, a.action]), [['ferry:exchange:desk2', 'exchange', 'created']]);
    const schedule = harness.client.schedule.getHandle('ferry:exchange:desk2');
    try {
      await insertEstimate(world.central.pool, { title: 'sent by the schedule', amount: '1.00' });
      await schedule.trigger();
      let status: string | undefined;
      for (let i = 0; i < 120 && status !== 'succeeded'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const row = await harness.db.pool.query<{ status: string }>(`select status from ferry_runs where workflow_id = 'exchange:desk2' order by started_at desc limit 1`);
        status = row.rows[0]?.status;
      }
      assert.equal(status, 'succeeded', 'the scheduled start ran the exchange under the node\'s lock id');
      const got = await world.desks[1]!.db.pool.query(`select 1 from estimates where title = 'sent by the schedule'`);
      assert.equal(got.rowCount, 1, 'the change reached the desktop');
    } finally {
      await schedule.delete();
    }
  });
});
