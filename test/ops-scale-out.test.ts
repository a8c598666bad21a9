// Several workers, one queue (issue 11): three worker processes on the same
// task queue run several streams at once; one is SIGKILLed mid-run; the other
// two finish its work. Every run succeeds, every target equals its source,
// every record is counted once, and the histories show activities started by
// all three workers (the killed one before its death, only the others after).
//
// 3 x 40,000 rows by default (FERRY_SCALE_ROWS per stream to change it). Worker
// output goes to .ferry/scale-out-workers-<database>.log.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunSummary } from '../src/workflows/contracts.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { createCustomerTables, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { chainHistories } from './support/history.js';
import { scaleOutStreamName, scaleOutTables } from './support/scale-out-streams.js';
import { waitFor, workerChildEnv, WorkerChildren } from './support/worker-children.js';

const STREAMS = 3;
const ROWS = Number(process.env.FERRY_SCALE_ROWS ?? 40_000);
const BATCH = 2_000;
const WORKERS = 3;

describe('several workers, one task queue', () => {
  let h: Harness;
  let workers: WorkerChildren;
  const prefix = `scale-${Date.now().toString(36)}`;

  before(async () => {
    h = await createHarness('ops_scale_out');
    for (let i = 0; i < STREAMS; i++) {
      const { source } = await createCustomerTables(h.db.pool, `_s${i}`);
      await seedCustomers(h.db.pool, source, ROWS);
    }
    workers = new WorkerChildren(
      workerChildEnv(h, 'scale-out.config.ts', {
        FERRY_SCALE_PREFIX: prefix,
        FERRY_SCALE_STREAMS: String(STREAMS),
        FERRY_SCALE_BATCH: String(BATCH),
      }),
      path.join(repoRoot, '.ferry', `scale-out-workers-${h.db.name}.log`),
    );
  });

  after(async () => {
    await workers?.killAll();
    await h?.close();
  });

  it(`${WORKERS} workers, ${STREAMS} streams x ${ROWS} rows, one worker SIGKILLed mid-run: the others finish, targets equal sources`, async (t) => {
    t.diagnostic(`worker logs: ${workers.logFile}`);
    const children = [];
    for (let n = 0; n < WORKERS; n++) children.push(await workers.start());
    const pids = children.map((c) => c.pid as number);
    const started = Date.now();
    const handles: WorkflowHandle<typeof syncStream>[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const stream = scaleOutStreamName(prefix, i);
      handles.push(await h.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue: h.settings.taskQueue, args: [{ stream }] }));
    }

    // Mid-run: a third of all rows written.
    const written = async () => {
      let n = 0;
      for (let i = 0; i < STREAMS; i++) n += Number((await h.db.pool.query(`select count(*) as n from ${scaleOutTables(i).target}`)).rows[0].n);
      return n;
    };
    const total = STREAMS * ROWS;
    await waitFor('a third of the rows written', async () => (await written()) >= total / 3, 120_000, 100);
    const victim = children[1]!;
    const writtenAtKill = await written();
    await workers.kill(victim);
    const killedAt = Date.now();
    t.diagnostic(`killed worker pid ${victim.pid} after ${((killedAt - started) / 1000).toFixed(1)} s, at ${writtenAtKill} of ${total} rows`);

    const summaries = (await Promise.all(handles.map((hd) => hd.result()))) as RunSummary[];
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`${total} rows in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} rows/s with ${WORKERS} then ${WORKERS - 1} workers)`);
    for (const [i, s] of summaries.entries()) {
      assert.equal(s.status, 'succeeded', `stream ${i}: ${s.message ?? ''}`);
      assert.equal(s.counts.created, ROWS, `stream ${i}: every record created once`);
      assert.equal(s.counts.updated + s.counts.failed + s.counts.deleted, 0);
      const { source, target } = scaleOutTables(i);
      assert.deepEqual(await targetRows(h.db.pool, target), await sourceRows(h.db.pool, source), `stream ${i}: target = source`);
    }

    // Who ran the activities: a started event names its worker ("<pid>@<host>"); its completion says
    // when the work was done (a started event is written lazily, when the attempt closes, so its own
    // time can lie after the kill for an attempt the victim began before it and that then timed out).
    const byWorker = new Map<number, { before: number; after: number }>();
    for (const handle of handles) {
      for (const history of await chainHistories(h.client, handle.workflowId)) {
        const workerOf = new Map<string, number>();
        for (const event of history.events ?? []) {
          const identity = event.activityTaskStartedEventAttributes?.identity;
          if (identity) workerOf.set(String(event.eventId), Number(identity.split('@')[0]));
          const completed = event.activityTaskCompletedEventAttributes;
          if (!completed) continue;
          const pid = workerOf.get(String(completed.startedEventId));
          if (pid === undefined) continue;
          const at = Number(event.eventTime?.seconds ?? 0) * 1000;
          const tally = byWorker.get(pid) ?? { before: 0, after: 0 };
          if (at < killedAt + 1000) tally.before += 1;
          else tally.after += 1;
          byWorker.set(pid, tally);
        }
      }
    }
    t.diagnostic(`activities completed per worker pid: ${JSON.stringify(Object.fromEntries(byWorker))}`);
    for (const pid of pids) assert.ok((byWorker.get(pid)?.before ?? 0) > 0, `worker ${pid} completed activities before the kill`);
    assert.equal(byWorker.get(victim.pid as number)?.after ?? 0, 0, 'the killed worker completed nothing after its death');
    const survivors = pids.filter((p) => p !== victim.pid);
    assert.ok(survivors.every((p) => (byWorker.get(p)?.after ?? 0) > 0), 'both survivors completed activities after the kill');
    const rows = (await h.db.pool.query(`select count(*) as n from ferry_staging`)).rows[0].n;
    assert.equal(Number(rows), 0, 'no staging left over');
  });
});
