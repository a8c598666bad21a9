import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerSource, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { gatedSource } from './support/gated-source.js';
import { createStateDb } from '../src/state/db.js';
import { findStage, putStageOnce } from '../src/state/staging.js';

describe('run counts', () => {
  let h: Harness;
  let tables: { source: string; target: string };
  let stream: string;

  before(async () => {
    h = await createHarness('counts');
    tables = await createCustomerTables(h.db.pool);
    stream = h.name('counts.customers');
    await h.startWorker([customerStream(stream, h.db.url, tables, { deletes: { mode: 'mirror', maxDeleteFraction: 0.5 } })]);
  });
  after(() => h.close());

  it('creates every record on the first run, over many batches and continue-as-new', async () => {
    await seedCustomers(h.db.pool, tables.source, 95);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual(summary.counts, { created: 95, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.equal(summary.batches, 10);
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });

  it('counts updated, created, failed, and leaves unchanged rows alone', async () => {
    await h.db.pool.query(`update ${tables.source} set score = score + 1, updated_at = clock_timestamp() where id <= 5`);
    await seedCustomers(h.db.pool, tables.source, 3, 1000);
    await h.db.pool.query(`update ${tables.source} set email = 'broken', updated_at = clock_timestamp() where id = 1001`);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    // 1000..1002 are stamped after the checkpoint (2026-01-01 + id µs), so the incremental run reads them.
    assert.deepEqual({ ...summary.counts }, { created: 2, updated: 5, skipped: 0, deleted: 0, failed: 1 });
  });

  it('a full pass skips unchanged rows and mirror-deletes exactly the removed ones', async () => {
    await h.db.pool.query(`delete from ${tables.source} where id in (10, 11)`);
    const summary = await h.run({ stream, full: true });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 95, deleted: 2, failed: 1 });
    const target = await targetRows(h.db.pool, tables.target);
    const source = (await sourceRows(h.db.pool, tables.source)).filter((r) => !r.startsWith('1001|'));
    assert.deepEqual(target, source);
  });

  it('shows progress in the run row while the run goes on', async () => {
    const progress = h.name('counts.progress');
    const source = gatedSource(customerSource(h.db.url, tables.source));
    await h.startWorker([customerStream(progress, h.db.url, tables, { source })]);
    try {
      // batch 0 and 1 are prepared and written; the fetch of batch 3 waits (batch 2 is prepared ahead)
      const held = source.hold(3);
      const handle = await h.start({ stream: progress });
      await held.reached;
      const row = async () =>
        (await h.db.pool.query<{ status: string; batches: number; created: number }>(`select status, batches, created from ferry_runs where stream = $1`, [progress])).rows[0];
      let seen = await row();
      for (let i = 0; i < 100 && !(seen && seen.batches >= 2); i++) seen = (await new Promise((r) => setTimeout(r, 100)), await row());
      assert.equal(seen?.status, 'running');
      assert.ok(seen!.batches >= 2 && seen!.created === seen!.batches * 10, `progress in the row: ${JSON.stringify(seen)}`);
      held.release();
      const summary = await handle.result();
      const final = await row();
      assert.deepEqual({ batches: final?.batches, created: final?.created }, { batches: summary.batches, created: summary.counts.created }, 'the finished row has the exact totals');
    } finally {
      await h.startWorker([customerStream(stream, h.db.url, tables, { deletes: { mode: 'mirror', maxDeleteFraction: 0.5 } })]);
    }
  });

  it('commits a batch once when two attempts of its upsert run at once (a timed-out attempt beside its retry)', async () => {
    const db = createStateDb(h.db.url, 2);
    try {
      const ref = { runId: 'r-once', stream, batchId: 'r-once:0.1' };
      let releaseFirst!: () => void;
      const firstHolds = new Promise<void>((r) => (releaseFirst = r));
      const first = db.transaction().execute(async (trx) => {
        const claimed = await putStageOnce(trx, ref, 'committed', { created: 1 });
        await firstHolds; // the first attempt has claimed the batch but not committed yet
        return claimed;
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = db.transaction().execute((trx) => putStageOnce(trx, ref, 'committed', { created: 2 }));
      await new Promise((r) => setTimeout(r, 200));
      releaseFirst();
      assert.deepEqual([await first, await second], [true, false], 'the second attempt waited for the first and found its marker');
      assert.deepEqual(await findStage(db, ref.batchId, 'committed'), { created: 1 }, 'the first result stands');
    } finally {
      await db.destroy();
    }
  });

  it('writes a run row for every run', async () => {
    const { rows } = await h.db.pool.query(`select status, created, updated, skipped, deleted, failed from ferry_runs where stream = $1 order by started_at`, [stream]);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded']);
  });
});
