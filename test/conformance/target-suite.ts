// The conformance suite every target runs (registerTargetSuite), against its
// real system. Writes go through the engine's own write path (upsertRows /
// deleteRows, as the upsertBatch and mirrorDelete activities call them), so a
// bulk target that reports rejections and a one-record target that throws
// RecordRejectedError both pass. One test is a real run through Temporal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { deleteRows, upsertRows } from '../../src/activities/target-writes.js';
import { defineStream } from '../../src/config/define-stream.js';
import { TransientError } from '../../src/connectors/errors.js';
import type { Target, TargetRow, WriteContext } from '../../src/connectors/target.js';
import type { Projection } from '../../src/core/types.js';
import { forwardTarget } from '../support/forward.js';
import { createHarness, type Harness } from '../support/harness.js';
import { activityAttempts, chainHistories } from '../support/history.js';
import { memorySource } from '../support/memory-source.js';
import type { TestDatabase } from '../support/database.js';

export interface TargetFixture {
  /** a target over the fixture's (initially empty) collection */
  target: Target;
  /** record `id` as the target's projection, with this name */
  projection(id: number, name: string): Projection;
  /** record `id` as a projection the target refuses for its content (a constraint, a 4xx) */
  rejectable(id: number): Projection;
  /** what B holds now and has not deleted: id -> name */
  read(): Promise<Map<number, string>>;
  close(): Promise<void>;
}

export interface TargetSuiteFactory {
  /** a fresh, empty collection in the real system; `db` is the test's Postgres database, for targets that live there */
  create(db: TestDatabase): Promise<TargetFixture>;
}

/** The write context the suite's direct writes carry, as upsertBatch's would. */
const ctx = { stream: 'conformance', runId: 'conformance-run' };

/** Rows for records from..to named `${name} ${id}`; `ids`: the internal ids of records written before (updates). */
const rowsOf = (f: TargetFixture, from: number, to: number, name = 'v1', ids?: Map<number, string | null>): TargetRow[] =>
  Array.from({ length: to - from + 1 }, (_, i) => {
    const id = from + i;
    const internalId = ids?.get(id) ?? null;
    return { key: [String(id)], internalId, op: ids?.has(id) ? 'update' : 'create', version: name, projection: f.projection(id, `${name} ${id}`) };
  });

const named = (from: number, to: number, name = 'v1') => new Map(Array.from({ length: to - from + 1 }, (_, i) => [from + i, `${name} ${from + i}`]));

/** A target that records every call (size, rows, context), and fails its first `failures` upserts as a network blip would. */
function observed(inner: Target, failures = 0) {
  const calls: number[] = [];
  const seen: { rows: readonly TargetRow[]; context: WriteContext }[] = [];
  let left = failures;
  const target: Target = {
    ...forwardTarget(inner),
    async upsert(rows, context) {
      calls.push(rows.length);
      seen.push({ rows, context });
      if (left > 0) {
        left -= 1;
        throw new TransientError('injected: connection reset by peer');
      }
      return inner.upsert(rows, context);
    },
  };
  return { target, calls, seen };
}

export function registerTargetSuite(name: string, factory: TargetSuiteFactory): void {
  describe(`target conformance: ${name}`, () => {
    let h: Harness;
    let fixture: TargetFixture | undefined;
    const fresh = async () => {
      await fixture?.close();
      fixture = await factory.create(h.db);
      return fixture;
    };
    before(async () => {
      h = await createHarness(`conf_${name.replace(/\W+/g, '_')}`);
    });
    after(async () => {
      await fixture?.close();
      await h.close();
    });

    it('declares its system and capabilities, and is idempotent by key', async () => {
      const f = await fresh();
      const caps = f.target.capabilities;
      assert.match(f.target.system, /^[A-Za-z0-9_.:-]+$/);
      assert.ok(['hard', 'soft', 'events', false].includes(caps.delete), `capabilities.delete: ${String(caps.delete)}`);
      assert.equal(typeof caps.returnsIds, 'boolean');
      assert.equal(caps.idempotent, true, 'ferry retries writes: a target must be idempotent');
      assert.equal(caps.delete === false, typeof f.target.delete !== 'function', 'delete() exists exactly when capabilities.delete says it can');
      await f.target.check();
    });

    it('writes a batch and returns an id per row; writing the same batch again changes nothing', async () => {
      const f = await fresh();
      const first = await upsertRows(f.target, rowsOf(f, 1, 20), ctx);
      assert.deepEqual(first.rejected, []);
      assert.equal(first.ids.length, 20);
      if (f.target.capabilities.returnsIds) {
        assert.ok(first.ids.every((id) => typeof id === 'string' && id !== ''), 'an id for every row');
        assert.equal(new Set(first.ids).size, 20, 'distinct ids');
      }
      assert.deepEqual(await f.read(), named(1, 20));
      const again = await upsertRows(f.target, rowsOf(f, 1, 20), ctx);
      assert.deepEqual(again.rejected, []);
      assert.deepEqual(again.ids, first.ids, 'the same ids again');
      assert.deepEqual(await f.read(), named(1, 20), 'no duplicates, no changes');
    });

    it('updates by key, given the internal ids from the bindings', async () => {
      const f = await fresh();
      const first = await upsertRows(f.target, rowsOf(f, 1, 6), ctx);
      const ids = new Map(first.ids.map((id, i) => [i + 1, id]));
      const second = await upsertRows(f.target, rowsOf(f, 4, 9, 'v2', ids), ctx);
      assert.deepEqual(second.rejected, []);
      if (f.target.capabilities.returnsIds) assert.deepEqual(second.ids.slice(0, 3), first.ids.slice(3, 6), 'an update keeps the id');
      assert.deepEqual(await f.read(), new Map([...named(1, 3), ...named(4, 9, 'v2')]));
    });

    it('a rejected record is reported, not thrown; the rest of the batch is written', async () => {
      const f = await fresh();
      const rows = rowsOf(f, 1, 7);
      rows[2] = { key: ['3'], internalId: null, op: 'create', version: 'v1', projection: f.rejectable(3) };
      const result = await upsertRows(f.target, rows, ctx);
      assert.deepEqual(result.rejected.map((r) => r.index), [2]);
      assert.ok((result.rejected[0]?.message ?? '').length > 0, 'with the system\'s message');
      assert.equal(result.ids[2], null);
      assert.deepEqual(await f.read(), new Map([...named(1, 2), ...named(4, 7)]));
    });

    it('never gets more rows in one call than its batch limit', async () => {
      const f = await fresh();
      const limit = f.target.capabilities.batchLimit;
      const { target, calls } = observed(f.target);
      const n = limit === undefined ? 30 : limit * 2 + 1;
      const result = await upsertRows(target, rowsOf(f, 1, n), ctx);
      assert.equal(result.ids.length, n);
      assert.ok(calls.every((c) => limit === undefined || c <= limit), `calls of ${calls.join(', ')} rows, limit ${limit}`);
      assert.equal(calls.reduce((a, b) => a + b, 0), n, 'every row written once');
      assert.equal((await f.read()).size, n);
    });

    it('deletes where capable: gone from what B holds, and deleting again is no error', async (t) => {
      const f = await fresh();
      if (f.target.capabilities.delete === false) return t.skip('cannot delete');
      const written = await upsertRows(f.target, rowsOf(f, 1, 8), ctx);
      const gone = [2, 5, 8].map((id) => ({ key: [String(id)], internalId: written.ids[id - 1] ?? null, version: 'v1' }));
      const removed = await deleteRows(f.target, gone, ctx);
      if (f.target.capabilities.delete !== 'events') assert.equal(removed, 3);
      assert.deepEqual([...(await f.read()).keys()].sort((a, b) => a - b), [1, 3, 4, 6, 7]);
      await deleteRows(f.target, gone, ctx);
      // a record written again after a soft delete is back
      await upsertRows(f.target, rowsOf(f, 5, 5, 'v2', new Map([[5, written.ids[4] ?? null]])), ctx);
      assert.equal((await f.read()).get(5), 'v2 5');
    });

    it('a transient fault is retried: a real run through Temporal writes every record once; a change then reaches the target as an update with its internal id', async () => {
      const f = await fresh();
      const { target, calls, seen } = observed(f.target, 1);
      const stream = h.name(`conformance.${name.replace(/\W+/g, '_')}`);
      const source = memorySource('conformance', Array.from({ length: 12 }, (_, i) => ({ id: String(i + 1), name: `v1 ${i + 1}` })));
      await h.startWorker([
        defineStream({
          name: stream,
          source,
          schema: z.object({ id: z.string(), name: z.string() }),
          map: (r) => f.projection(Number(r.id), r.name),
          target,
          key: 'id',
          batchSize: 5,
          retry: { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' },
          timeouts: { activity: '1m', heartbeat: '10s' },
        }),
      ]);
      try {
        const summary = await h.run({ stream });
        assert.equal(summary.status, 'succeeded');
        assert.deepEqual({ ...summary.counts }, { created: 12, updated: 0, skipped: 0, deleted: 0, failed: 0 });
        assert.deepEqual(await f.read(), named(1, 12));
        assert.equal(calls.length, 4, 'three batches, the first written twice');
        assert.deepEqual(activityAttempts(await chainHistories(h.client, stream), 'upsertBatch').sort(), [1, 1, 2]);
        const firstRun = seen.slice(1).flatMap((s) => s.rows);
        assert.ok(firstRun.every((r) => r.op === 'create' && r.internalId === null && r.version !== ''), 'new records: op create, no internal id yet');
        assert.ok(seen.every((s) => s.context.stream === stream && s.context.runId === summary.runId), 'the write context names the stream and run');

        // a changed record, on a full pass: only it is written, as an update carrying the id B returned
        const third = source.records[2] as { id: string; name: string };
        third.name = 'v2 3';
        seen.length = 0;
        const again = await h.run({ stream, full: true });
        assert.deepEqual({ ...again.counts }, { created: 0, updated: 1, skipped: 11, deleted: 0, failed: 0 });
        assert.deepEqual(seen.flatMap((s) => s.rows.map((r) => r.key)), [['3']]);
        const update = seen[0]?.rows[0];
        assert.equal(update?.op, 'update');
        if (f.target.capabilities.returnsIds) {
          const { rows: bound } = await h.db.pool.query<{ internal_id: string }>(`select internal_id from ferry_bindings where stream = $1 and record_key = $2`, [stream, '["3"]']);
          assert.equal(update?.internalId, bound[0]?.internal_id, 'the internal id from the binding reaches the target');
          assert.notEqual(update?.internalId, null);
        }
        assert.equal((await f.read()).get(3), 'v2 3');
      } finally {
        await h.stopWorker();
      }
    });
  });
}
