// Keyset pagination (ARCHITECTURE.md, guarantee 3): no row is lost at a batch
// boundary, microseconds survive the cursor, and the look-back window re-reads
// late-committed rows without rewriting unchanged ones.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, sourceRows, targetRows } from './support/customers.js';

async function insertCustomer(h: Harness, table: string, id: number, updatedAt: string): Promise<void> {
  await h.db.pool.query(
    `insert into ${table} (id, email, name, score, updated_at) values ($1::bigint, 'c' || $1::bigint || '@example.com', 'Customer ' || $1::bigint, $1::bigint % 100, $2::timestamptz)`,
    [id, updatedAt],
  );
}

async function checkpointOf(h: Harness, stream: string): Promise<unknown> {
  const { rows } = await h.db.pool.query(`select cursor from ferry_checkpoints where stream = $1`, [stream]);
  return rows[0]?.cursor;
}

/** The checkpoint a source row makes: its updated_at as Postgres prints it, and its key. */
async function cursorOf(h: Harness, table: string, id: number): Promise<unknown> {
  const { rows } = await h.db.pool.query(`select updated_at::text as v from ${table} where id = $1`, [id]);
  return { value: rows[0].v, key: [String(id)] };
}

/** xmin of each target row: changes only when the row is written again. */
async function targetVersions(h: Harness, table: string): Promise<Map<string, string>> {
  const { rows } = await h.db.pool.query<{ id: string; x: string }>(`select customer_id::text as id, xmin::text as x from ${table}`);
  return new Map(rows.map((r) => [r.id, r.x]));
}

describe('pagination', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness('pagination');
  });
  after(() => h.close());

  it('reads every row of a group sharing one updated_at across batch boundaries', async () => {
    const tables = await createCustomerTables(h.db.pool, '_equal');
    const stream = h.name('pagination.equal');
    await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 10 })]);
    // 5 rows before, 25 sharing one timestamp (ids not in insertion order), 7 after:
    // batch 1 ends after 5 rows of the group, batch 2 and 3 fall inside or at its end.
    for (let i = 1; i <= 5; i += 1) await insertCustomer(h, tables.source, 100 + i, `2026-02-01 10:00:00.00000${i}+00`);
    const group = Array.from({ length: 25 }, (_, i) => 200 + ((i * 7) % 25));
    for (const id of group) await insertCustomer(h, tables.source, id, '2026-02-01 11:00:00.5+00');
    for (let i = 1; i <= 7; i += 1) await insertCustomer(h, tables.source, 300 + i, `2026-02-01 12:00:00.00000${i}+00`);

    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.records, 37);
    assert.equal(summary.batches, 4);
    assert.deepEqual({ ...summary.counts }, { created: 37, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
    assert.deepEqual(await checkpointOf(h, stream), await cursorOf(h, tables.source, 307));

    // Rows committed later with the checkpoint's own timestamp and a higher key are
    // after the checkpoint in keyset order, so the next incremental run reads them.
    await insertCustomer(h, tables.source, 308, '2026-02-01 12:00:00.000007+00');
    await insertCustomer(h, tables.source, 999, '2026-02-01 12:00:00.000007+00');
    const next = await h.run({ stream });
    assert.deepEqual({ ...next.counts }, { created: 2, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.equal(next.records, 2);
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });

  it('keeps microsecond-distinct timestamps apart, in the cursor and in the target', async () => {
    const tables = await createCustomerTables(h.db.pool, '_micro');
    const stream = h.name('pagination.micro');
    await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 7 })]);
    // 40 rows one microsecond apart, all inside one millisecond, ids descending as
    // time goes on: a cursor cut to milliseconds would re-read or skip rows.
    await h.db.pool.query(
      `insert into ${tables.source} (id, email, name, score, updated_at)
       select 1000 - g, 'm' || g || '@example.com', 'Micro ' || g, g, timestamptz '2026-03-01 10:00:00.123100+00' + g * interval '1 microsecond'
       from generate_series(1, 40) g`,
    );
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.batches, 6);
    assert.deepEqual({ ...summary.counts }, { created: 40, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const source = await sourceRows(h.db.pool, tables.source);
    assert.equal(source.length, 40);
    assert.ok(source.every((r) => /\.1231\d{1,2}[+-]\d\d$/.test(r)), 'source rows carry microseconds');
    assert.deepEqual(await targetRows(h.db.pool, tables.target), source);
    assert.equal(
      (await h.db.pool.query(`select count(distinct source_updated_at)::int as n from ${tables.target}`)).rows[0].n,
      40,
    );
    const checkpoint = await cursorOf(h, tables.source, 960);
    assert.match((checkpoint as { value: string }).value, /10:00:00\.12314\b/);
    assert.deepEqual(await checkpointOf(h, stream), checkpoint);

    const again = await h.run({ stream });
    assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.equal(again.records, 0);
  });

  describe('late-committed rows and the look-back window', () => {
    let tables: { source: string; target: string };
    let stream: string;

    before(async () => {
      tables = await createCustomerTables(h.db.pool, '_late');
      stream = h.name('pagination.late');
      await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 10, sourceOptions: { lookBack: '1 hour' } })]);
      // 20 rows, 2026-01-01 00:00:00.000001 .. .000020
      await h.db.pool.query(
        `insert into ${tables.source} (id, email, name, score, updated_at)
         select g, 'c' || g || '@example.com', 'Customer ' || g, g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 microsecond'
         from generate_series(1, 20) g`,
      );
      const first = await h.run({ stream });
      assert.deepEqual({ ...first.counts }, { created: 20, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    });

    it('reads a late row inside the window on the next incremental run; unchanged rows are skipped, not rewritten', async () => {
      const before = await targetVersions(h, tables.target);
      // Committed now, stamped 30 minutes before the checkpoint (a long transaction's clock).
      await insertCustomer(h, tables.source, 500, '2025-12-31 23:30:00+00');
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.equal(summary.mode, 'incremental');
      // the window (checkpoint - 1 hour) holds the late row and the 20 known rows
      assert.equal(summary.records, 21);
      assert.equal(summary.batches, 3);
      assert.deepEqual({ ...summary.counts }, { created: 1, updated: 0, skipped: 20, deleted: 0, failed: 0 });
      assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
      const afterRun = await targetVersions(h, tables.target);
      for (const [id, xmin] of before) assert.equal(afterRun.get(id), xmin, `target row ${id} was rewritten`);
      // the checkpoint stays at the newest row, not at the late one
      assert.deepEqual(await checkpointOf(h, stream), await cursorOf(h, tables.source, 20));
    });

    it('does not read a late row outside the window incrementally (documented limit), but a full pass does', async () => {
      // Stamped two hours before the checkpoint: beyond the look-back window.
      await insertCustomer(h, tables.source, 600, '2025-12-31 22:00:00+00');
      const incremental = await h.run({ stream });
      assert.equal(incremental.status, 'succeeded');
      assert.deepEqual({ ...incremental.counts }, { created: 0, updated: 0, skipped: 21, deleted: 0, failed: 0 });
      const missing = await h.db.pool.query(`select 1 from ${tables.target} where customer_id = 600`);
      assert.equal(missing.rowCount, 0, 'a row older than checkpoint - lookBack is not read by an incremental run');

      const full = await h.run({ stream, full: true });
      assert.equal(full.status, 'succeeded');
      assert.equal(full.mode, 'full');
      assert.equal(full.records, 22);
      assert.deepEqual({ ...full.counts }, { created: 1, updated: 0, skipped: 21, deleted: 0, failed: 0 });
      assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
    });
  });
});
