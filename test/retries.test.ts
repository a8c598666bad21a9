import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Target } from '../src/connectors/target.js';
import { forwardTarget } from './support/forward.js';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, customerTarget, seedCustomers, sourceRows, targetRows } from './support/customers.js';

/** A real Postgres target whose first `failures` upserts fail as a network blip would. */
function flakyTarget(inner: Target, failures: number): Target & { calls: number } {
  let left = failures;
  const flaky = {
    ...forwardTarget(inner),
    calls: 0,
    async upsert(rows: Parameters<Target['upsert']>[0], context: Parameters<Target['upsert']>[1]) {
      flaky.calls += 1;
      if (left > 0) {
        left -= 1;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      }
      return inner.upsert(rows, context);
    },
  };
  return flaky;
}

async function attemptsOf(h: Harness, workflowId: string, activityType: string): Promise<number[]> {
  const attempts: number[] = [];
  const scheduled = new Map<string, string>();
  let runId: string | undefined = (await h.client.workflow.getHandle(workflowId).describe()).runId;
  // Walk the continue-as-new chain backwards from the latest execution.
  while (runId) {
    const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    let previous: string | undefined;
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) scheduled.set(id, event.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === activityType) attempts.push(started.attempt ?? 0);
      const startedAttrs = event.workflowExecutionStartedEventAttributes;
      if (startedAttrs?.continuedExecutionRunId) previous = startedAttrs.continuedExecutionRunId;
    }
    runId = previous;
  }
  return attempts;
}

describe('transient errors', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness('retries');
  });
  after(() => h.close());

  it('retries a failing target with backoff and counts every record once', async () => {
    const tables = await createCustomerTables(h.db.pool, '_flaky');
    await seedCustomers(h.db.pool, tables.source, 30);
    const stream = h.name('retries.flaky');
    const target = flakyTarget(customerTarget(h.db.url, tables.target), 2);
    await h.startWorker([customerStream(stream, h.db.url, tables, { target, retry: { maximumAttempts: 4, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' } })]);

    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 30, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
    // History keeps only the final attempt: the first batch's upsert succeeded on its third.
    // Three full batches of 10: the source reads one row ahead, so no empty fourth batch follows.
    assert.deepEqual((await attemptsOf(h, stream, 'upsertBatch')).sort(), [1, 1, 3]);
    assert.equal(target.calls, 5);
  });

  it('gives up after the bounded attempts: run failed, run row says why, checkpoint not moved', async () => {
    const tables = await createCustomerTables(h.db.pool, '_down');
    await seedCustomers(h.db.pool, tables.source, 5);
    const stream = h.name('retries.down');
    const target = flakyTarget(customerTarget(h.db.url, tables.target), 1_000);
    await h.startWorker([customerStream(stream, h.db.url, tables, { target, retry: { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' } })]);

    await assert.rejects(h.run({ stream }), (err: Error) => /failed/.test(err.message));
    assert.equal(target.calls, 3);
    const { rows } = await h.db.pool.query(`select status, error from ferry_runs where stream = $1`, [stream]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'failed');
    assert.match(rows[0].error, /Connection terminated unexpectedly/);
    const checkpoint = await h.db.pool.query(`select 1 from ferry_checkpoints where stream = $1`, [stream]);
    assert.equal(checkpoint.rowCount, 0);
    assert.equal((await h.db.pool.query(`select count(*)::int as n from ${tables.target}`)).rows[0].n, 0);
  });

  it('survives database connections being cut mid-run', async () => {
    const tables = await createCustomerTables(h.db.pool, '_cut');
    await seedCustomers(h.db.pool, tables.source, 3_000);
    const stream = h.name('retries.cut');
    await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 50, retry: { maximumAttempts: 10, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' } })]);

    const handle = await h.start({ stream });
    let cuts = 0;
    const cutter = setInterval(() => {
      h.db.pool
        .query(`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and application_name like 'ferry-%'`, [h.db.name])
        .then((r) => (cuts += r.rows[0].n as number))
        .catch(() => undefined);
    }, 250);
    let summary;
    try {
      summary = await handle.result();
    } finally {
      clearInterval(cutter);
    }
    assert.ok(cuts > 0, 'no connection was cut: the test proved nothing');
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 3_000, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });
});
