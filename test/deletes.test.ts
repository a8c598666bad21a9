// Deletes (ARCHITECTURE.md, guarantee 7): mirror-delete after a complete pass
// only, within the guard; 'replace' without a guard; soft delete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, customerTarget, seedCustomers, sourceRows, targetRows } from './support/customers.js';

async function boundKeys(h: Harness, stream: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ record_key: string }>(`select record_key from ferry_bindings where stream = $1`, [stream]);
  return rows.map((r) => JSON.parse(r.record_key)[0] as string).sort((a, b) => Number(a) - Number(b));
}

async function sourceIds(h: Harness, table: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ k: string }>(`select id::text as k from ${table} order by id`);
  return rows.map((r) => r.k);
}

async function runRow(h: Harness, runId: string) {
  const { rows } = await h.db.pool.query(`select status, mode, created, updated, skipped, deleted, failed, message, error from ferry_runs where id = $1`, [runId]);
  assert.equal(rows.length, 1, `one run row for ${runId}`);
  return rows[0];
}

const count = async (h: Harness, table: string) => (await h.db.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;

describe('deletes', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness('deletes');
  });
  after(() => h.close());

  describe('mirror (default guard 50%)', () => {
    let tables: { source: string; target: string };
    let stream: string;

    before(async () => {
      tables = await createCustomerTables(h.db.pool, '_mirror');
      stream = h.name('deletes.mirror');
      await h.startWorker([customerStream(stream, h.db.url, tables, { deletes: 'mirror' })]);
      await seedCustomers(h.db.pool, tables.source, 20);
      const first = await h.run({ stream });
      assert.deepEqual({ ...first.counts }, { created: 20, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    });

    it('an incremental run never deletes', async () => {
      await h.db.pool.query(`delete from ${tables.source} where id in (3, 7, 8)`);
      // one new row, so the incremental run does write something
      await seedCustomers(h.db.pool, tables.source, 1, 21);
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.equal(summary.mode, 'incremental');
      assert.deepEqual({ ...summary.counts }, { created: 1, updated: 0, skipped: 0, deleted: 0, failed: 0 });
      assert.equal(await count(h, tables.target), 21);
      assert.equal((await boundKeys(h, stream)).length, 21);
    });

    it('a full pass deletes exactly the rows missing from the source, and their bindings', async () => {
      const summary = await h.run({ stream, full: true });
      assert.equal(summary.status, 'succeeded');
      assert.equal(summary.mode, 'full');
      assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 18, deleted: 3, failed: 0 });
      assert.equal(summary.message, undefined);
      assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
      assert.deepEqual(await boundKeys(h, stream), await sourceIds(h, tables.source));
      const row = await runRow(h, summary.runId);
      assert.equal(row.status, 'succeeded');
      assert.equal(row.deleted, 3);

      const again = await h.run({ stream, full: true });
      assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 18, deleted: 0, failed: 0 });
    });

    it('the guard: more than half gone deletes nothing and warns why', async () => {
      // 10 of the 18 known records disappear: 55.6% > 50%
      await h.db.pool.query(`delete from ${tables.source} where id <= 13`);
      assert.equal(await count(h, tables.source), 8);
      const targetBefore = await targetRows(h.db.pool, tables.target);
      const summary = await h.run({ stream, full: true });
      assert.equal(summary.status, 'warning');
      assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 8, deleted: 0, failed: 0 });
      assert.match(summary.message ?? '', /mirror-delete skipped: 10 of 18 known records \(55\.6%\) were not in the source this run, more than the guard allows \(50%\)/);
      assert.deepEqual(await targetRows(h.db.pool, tables.target), targetBefore);
      assert.equal((await boundKeys(h, stream)).length, 18);
      const row = await runRow(h, summary.runId);
      assert.equal(row.status, 'warning');
      assert.equal(row.deleted, 0);
      assert.equal(row.message, summary.message);
      assert.equal(row.error, null);
    });

    it('the guard: an emptied source deletes nothing and warns why', async () => {
      await h.db.pool.query(`delete from ${tables.source}`);
      const targetBefore = await targetRows(h.db.pool, tables.target);
      const summary = await h.run({ stream, full: true });
      assert.equal(summary.status, 'warning');
      assert.equal(summary.records, 0);
      assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 0 });
      assert.match(summary.message ?? '', /mirror-delete skipped: 18 of 18 known records \(100%\)/);
      assert.deepEqual(await targetRows(h.db.pool, tables.target), targetBefore);
      assert.equal(targetBefore.length, 18);
      assert.equal((await runRow(h, summary.runId)).status, 'warning');
    });
  });

  it('mirror: exactly at the guard still deletes', async () => {
    const tables = await createCustomerTables(h.db.pool, '_edge');
    const stream = h.name('deletes.edge');
    await h.startWorker([customerStream(stream, h.db.url, tables, { deletes: { mode: 'mirror', maxDeleteFraction: 0.25 } })]);
    await seedCustomers(h.db.pool, tables.source, 12);
    await h.run({ stream });
    await h.db.pool.query(`delete from ${tables.source} where id in (1, 5, 12)`);
    const summary = await h.run({ stream, full: true });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 9, deleted: 3, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });

  it("deletes: 'replace' makes every run a full pass and deletes without a guard", async () => {
    const tables = await createCustomerTables(h.db.pool, '_replace');
    const stream = h.name('deletes.replace');
    await h.startWorker([customerStream(stream, h.db.url, tables, { deletes: 'replace' })]);
    await seedCustomers(h.db.pool, tables.source, 15);
    const first = await h.run({ stream });
    assert.equal(first.mode, 'full');
    assert.deepEqual({ ...first.counts }, { created: 15, updated: 0, skipped: 0, deleted: 0, failed: 0 });

    await h.db.pool.query(`delete from ${tables.source} where id <= 12`);
    const most = await h.run({ stream });
    assert.equal(most.status, 'succeeded');
    assert.equal(most.mode, 'full');
    assert.deepEqual({ ...most.counts }, { created: 0, updated: 0, skipped: 3, deleted: 12, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));

    await h.db.pool.query(`delete from ${tables.source}`);
    const all = await h.run({ stream });
    assert.equal(all.status, 'succeeded');
    assert.deepEqual({ ...all.counts }, { created: 0, updated: 0, skipped: 0, deleted: 3, failed: 0 });
    assert.equal(await count(h, tables.target), 0);
    assert.deepEqual(await boundKeys(h, stream), []);
    assert.equal((await h.db.pool.query(`select 1 from ferry_checkpoints where stream = $1`, [stream])).rowCount, 0, 'a replace stream keeps no checkpoint');
  });

  it('soft delete sets the column, and an upsert of a reappearing record clears it', async () => {
    const tables = await createCustomerTables(h.db.pool, '_soft');
    await h.db.pool.query(`alter table ${tables.target} add column deleted_at timestamptz`);
    const stream = h.name('deletes.soft');
    const target = customerTarget(h.db.url, tables.target, { softDelete: { column: 'deleted_at' } });
    await h.startWorker([customerStream(stream, h.db.url, tables, { target, deletes: 'mirror' })]);
    await seedCustomers(h.db.pool, tables.source, 10);
    await h.run({ stream });
    const ids = new Map((await h.db.pool.query(`select customer_id::text as c, id::text as id from ${tables.target}`)).rows.map((r) => [r.c, r.id]));

    const saved = (await h.db.pool.query(`select * from ${tables.source} where id = 5`)).rows[0];
    await h.db.pool.query(`delete from ${tables.source} where id in (2, 5)`);
    const removed = await h.run({ stream, full: true });
    assert.equal(removed.status, 'succeeded');
    assert.deepEqual({ ...removed.counts }, { created: 0, updated: 0, skipped: 8, deleted: 2, failed: 0 });
    const softState = async () =>
      (await h.db.pool.query<{ c: string; d: boolean }>(`select customer_id::text as c, deleted_at is not null as d from ${tables.target} order by customer_id`)).rows
        .filter((r) => r.d)
        .map((r) => r.c);
    assert.equal(await count(h, tables.target), 10, 'soft delete keeps the rows');
    assert.deepEqual(await softState(), ['2', '5']);
    assert.deepEqual(await boundKeys(h, stream), ['1', '3', '4', '6', '7', '8', '9', '10']);
    const deletedAt2 = (await h.db.pool.query(`select deleted_at::text as d from ${tables.target} where customer_id = 2`)).rows[0].d;

    // 5 comes back (changed, stamped now): the upsert revives the same target row
    await h.db.pool.query(`insert into ${tables.source} (id, email, name, score, updated_at) values (5, $1, 'Back again', 55, clock_timestamp())`, [saved.email]);
    const back = await h.run({ stream });
    assert.equal(back.mode, 'incremental');
    assert.deepEqual({ ...back.counts }, { created: 1, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await softState(), ['2']);
    const five = (await h.db.pool.query(`select id::text as id, name from ${tables.target} where customer_id = 5`)).rows[0];
    assert.deepEqual(five, { id: ids.get('5'), name: 'Back again' });

    // another full pass: 2 is already gone (no binding), so it is neither deleted again nor re-stamped
    const again = await h.run({ stream, full: true });
    assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 9, deleted: 0, failed: 0 });
    assert.equal((await h.db.pool.query(`select deleted_at::text as d from ${tables.target} where customer_id = 2`)).rows[0].d, deletedAt2);
    const live = (await targetRows(h.db.pool, `(select * from ${tables.target} where deleted_at is null) t`)).length;
    assert.equal(live, 9);
  });
});
