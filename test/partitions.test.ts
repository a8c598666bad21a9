// Partitioned first loads (issue 12): a first load split into key ranges, each
// loaded by its own loadPartition child workflow, several at once. The target
// ends equal to the source with every record created once; the checkpoint is
// the source's position as of the split, so the next incremental run reads
// only what changed since (also what changed while the ranges loaded); a
// complete pass mirror-deletes across all ranges; a cancel stops every range
// and commits no checkpoint; a table too small to split loads as one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import type { Target } from '../src/connectors/target.js';
import { progressQuery } from '../src/workflows/definitions.js';
import { chainHistories, type History } from './support/history.js';
import { activityRecords } from './support/partitions-batches.js';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, customerTarget, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { forwardTarget } from './support/forward.js';
import { waitFor } from './support/worker-children.js';

const ROWS = 3_000;
const BATCH = 100;

/** The child workflows a run's history started, by workflow id. */
function childIds(history: History): string[] {
  return (history.events ?? []).flatMap((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ? [e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId] : []));
}

/** The target, each write delayed by `ms`. */
function slowTarget(inner: Target, ms: number): Target {
  return { ...forwardTarget(inner), upsert: async (rows, context) => (await sleep(ms), inner.upsert(rows, context)) };
}

async function runRow(h: Harness, runId: string) {
  const { rows } = await h.db.pool.query(`select status, mode, created, updated, skipped, deleted, failed, batches, message from ferry_runs where id = $1`, [runId]);
  assert.equal(rows.length, 1, `one run row for ${runId}`);
  return rows[0];
}

async function checkpointOf(h: Harness, stream: string): Promise<{ value: string; key: string[] } | undefined> {
  const { rows } = await h.db.pool.query(`select cursor from ferry_checkpoints where stream = $1`, [stream]);
  return rows[0]?.cursor;
}

describe('partitioned first loads', () => {
  let h: Harness;
  let tables: { source: string; target: string };
  let small: { source: string; target: string };
  let cancelTables: { source: string; target: string };
  const stream = () => h.name('parts.customers');
  const smallStream = () => h.name('parts.small');
  const cancelStream = () => h.name('parts.cancel');

  before(async () => {
    h = await createHarness('partitions');
    tables = await createCustomerTables(h.db.pool, '_parts');
    small = await createCustomerTables(h.db.pool, '_parts_small');
    cancelTables = await createCustomerTables(h.db.pool, '_parts_cancel');
    await seedCustomers(h.db.pool, tables.source, ROWS);
    await seedCustomers(h.db.pool, small.source, 150);
    await seedCustomers(h.db.pool, cancelTables.source, ROWS);
    await h.startWorker([
      customerStream(stream(), h.db.url, tables, { batchSize: BATCH, partitions: { count: 5, atOnce: 3 }, deletes: 'mirror' }),
      customerStream(smallStream(), h.db.url, small, { batchSize: BATCH, partitions: 4 }),
      // each write takes 50 ms more, so no range finishes before the cancel reaches it
      customerStream(cancelStream(), h.db.url, cancelTables, { batchSize: 20, partitions: 4, target: slowTarget(customerTarget(h.db.url, cancelTables.target), 50) }),
    ]);
  });
  after(() => h?.close());

  /** For each upsertBatch of these child workflows' latest runs: was it told no record can have a binding (LoadPartitions.unbound)? */
  async function upsertsUnbound(children: readonly string[]): Promise<boolean[]> {
    const flags: boolean[] = [];
    for (const id of children) {
      for (const activity of activityRecords(await chainHistories(h.client, id))) {
        if (activity.type === 'upsertBatch') flags.push((activity.input as { unbound?: boolean }).unbound === true);
      }
    }
    return flags;
  }

  it('loads every key range in its own child workflow: target = source, each record created once, checkpoint as of the split', async () => {
    const handle = await h.start({ stream: stream() });
    // Written while the ranges load: the checkpoint was taken before, so the next run must see these.
    await waitFor('the first rows written', async () => Number((await h.db.pool.query(`select count(*) from ${tables.target}`)).rows[0].count) > 0, 60_000, 20);
    await h.db.pool.query(`update ${tables.source} set score = score + 1000, updated_at = clock_timestamp() where id in (1, 1500, 2999)`);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.partitions?.total, 5, 'the progress query tells the ranges');
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.equal(summary.counts.created, ROWS, 'every record created once');
    assert.equal(summary.counts.failed + summary.counts.deleted, 0);
    assert.equal(summary.records, ROWS, 'every record read once: a range is read in key order');

    const history = await handle.fetchHistory();
    const children = childIds(history);
    assert.deepEqual(children, [1, 2, 3, 4, 5].map((i) => `${stream()}/partition-${i}-of-5`), 'five ranges, each its own child workflow');
    for (const id of children) {
      const child = await h.client.workflow.getHandle(id).describe();
      assert.equal(child.status.name, 'COMPLETED', `${id} completed`);
    }
    const unbound = await upsertsUnbound(children);
    assert.ok(unbound.length >= 5 && unbound.every(Boolean), 'a stream without bindings: no range looks its records up');
    const row = await runRow(h, summary.runId);
    assert.equal(row.status, 'succeeded');
    assert.equal(Number(row.created), ROWS, 'the run row counts every partition');
    const { rows: bound } = await h.db.pool.query(`select count(*)::int as n from ferry_bindings where stream = $1`, [stream()]);
    assert.equal(bound[0].n, ROWS, 'one binding per record');
    // The checkpoint is the last row in cursor order as of the split (ids 1..3000 by timestamp): before the updates.
    assert.deepEqual((await checkpointOf(h, stream()))?.key, [String(ROWS)], 'checkpoint: the last row as of the split');

    const next = await h.run({ stream: stream() });
    assert.equal(next.mode, 'incremental');
    assert.equal(next.counts.created, 0);
    assert.equal(next.records, 3, 'the incremental run reads only the rows changed since the split');
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source), 'target = source');
  });

  it('a complete pass over the ranges mirror-deletes what the source no longer has', async () => {
    await h.db.pool.query(`delete from ${tables.source} where id in (2, 777, 2000, 3000)`);
    const summary = await h.run({ stream: stream(), full: true });
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.equal(summary.counts.deleted, 4);
    assert.equal(summary.counts.created + summary.counts.updated, 0);
    assert.equal(summary.counts.skipped, ROWS - 4, 'unchanged records are skipped in every range');
    const children = childIds(await h.client.workflow.getHandle(stream()).fetchHistory());
    assert.equal(children.length, 5);
    const unbound = await upsertsUnbound(children);
    assert.ok(unbound.length >= 5 && !unbound.some(Boolean), 'a stream with bindings: every range looks them up');
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source), 'target = source');
  });

  it('a table smaller than two batches per range loads as one run; --partitions 1 turns the split off', async () => {
    const summary = await h.run({ stream: smallStream() });
    assert.equal(summary.counts.created, 150);
    assert.deepEqual(childIds(await h.client.workflow.getHandle(smallStream()).fetchHistory()), [], '150 rows, batch 100: one range');
    await h.db.pool.query(`update ${small.source} set score = score + 1, updated_at = clock_timestamp()`);
    const again = await h.run({ stream: smallStream(), full: true, partitions: 1 });
    assert.equal(again.counts.updated, 150);
    assert.deepEqual(childIds(await h.client.workflow.getHandle(smallStream()).fetchHistory()), []);
    assert.deepEqual(await targetRows(h.db.pool, small.target), await sourceRows(h.db.pool, small.source));
  });

  it('a cancelled partitioned load stops every range at a batch boundary and commits no checkpoint', async () => {
    const handle = await h.start({ stream: cancelStream() });
    await waitFor('rows written', async () => Number((await h.db.pool.query(`select count(*) from ${cancelTables.target}`)).rows[0].count) >= 100, 60_000, 10);
    await handle.cancel();
    await assert.rejects(handle.result(), WorkflowFailedError);
    const { rows } = await h.db.pool.query(`select id, status, message from ferry_runs where stream = $1`, [cancelStream()]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'cancelled');
    assert.equal(await checkpointOf(h, cancelStream()), undefined, 'no checkpoint: the next run loads again');
    // A range may have finished before the cancel arrived; the others stopped.
    const states = await Promise.all(childIds(await handle.fetchHistory()).map(async (id) => (await h.client.workflow.getHandle(id).describe()).status.name));
    assert.ok(states.includes('CANCELLED'), `ranges cancelled: ${states.join(', ')}`);
    assert.ok(states.every((s) => s === 'CANCELLED' || s === 'COMPLETED'), `every range cancelled or done: ${states.join(', ')}`);
    // The next run loads again (split anew); what the cancelled one wrote is skipped, nothing is lost or doubled.
    const summary = await h.run({ stream: cancelStream() });
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.counts.created + summary.counts.skipped, ROWS);
    assert.ok(summary.counts.skipped > 0, 'rows the cancelled run committed are skipped');
    assert.deepEqual(await targetRows(h.db.pool, cancelTables.target), await sourceRows(h.db.pool, cancelTables.source));
  });
});
