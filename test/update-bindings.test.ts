// The bindings of records B already holds, as an incremental run rewrites them: a record B
// refuses keeps its old binding (so the next run writes it again), a record B holds under a new
// id is bound to that id, and the new version of a binding stays on its page (the table keeps
// room for it: a HOT update, no new index entry).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';

interface Binding {
  record_key: string;
  internal_id: string;
  version: string;
}

describe('bindings of updated records', () => {
  let h: Harness;
  let tables: { source: string; target: string };
  let stream: string;

  const bindings = async (): Promise<Map<string, Binding>> => {
    const { rows } = await h.db.pool.query<Binding>(`select record_key, internal_id, version from ferry_bindings where stream = $1`, [stream]);
    return new Map(rows.map((r) => [r.record_key, r]));
  };
  /** the heap page each binding row is on */
  const pages = async (): Promise<Map<string, number>> => {
    const { rows } = await h.db.pool.query<{ record_key: string; page: number }>(
      `select record_key, (ctid::text::point)[0]::int as page from ferry_binding_keys
       where scope_id = (select id from ferry_binding_scopes where stream = $1)`,
      [stream],
    );
    return new Map(rows.map((r) => [r.record_key, r.page]));
  };
  const targetId = async (customer: number): Promise<string> =>
    (await h.db.pool.query<{ id: string }>(`select id::text from ${tables.target} where customer_id = $1`, [customer])).rows[0]?.id ?? 'none';
  const touch = (ids: number[], set = 'score = score + 1') =>
    h.db.pool.query(`update ${tables.source} set ${set}, updated_at = clock_timestamp() where id = any($1::int[])`, [ids]);

  before(async () => {
    h = await createHarness('update-bindings');
    tables = await createCustomerTables(h.db.pool, '_ub');
    stream = h.name('update-bindings.customers');
    // one batch per run, and enough bindings to fill several pages
    await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 500 })]);
    await seedCustomers(h.db.pool, tables.source, 300);
    const first = await h.run({ stream });
    assert.deepEqual({ ...first.counts }, { created: 300, updated: 0, skipped: 0, deleted: 0, failed: 0 });
  });
  after(() => h.close());

  it('updated records get their new versions; a record B holds under a new id is bound to it', async () => {
    const before = await bindings();
    const pagesBefore = await pages();
    assert.ok(Math.max(...pagesBefore.values()) >= 3, 'the bindings fill several pages');
    // Someone recreated customer 7 in B: same key, new id.
    await h.db.pool.query(`
      with gone as (delete from ${tables.target} where customer_id = 7 returning customer_id, email, name, score, source_updated_at)
      insert into ${tables.target} (customer_id, email, name, score, source_updated_at) select * from gone`);
    const movedTo = await targetId(7);
    assert.notEqual(movedTo, before.get('["7"]')?.internal_id);
    await touch([2, 7, 8]);

    const run = await h.run({ stream });
    assert.deepEqual({ ...run.counts }, { created: 0, updated: 3, skipped: 0, deleted: 0, failed: 0 });
    const after = await bindings();
    assert.equal(after.get('["7"]')?.internal_id, movedTo, 'bound to the id B holds it under now');
    for (const key of ['["2"]', '["7"]', '["8"]']) assert.notEqual(after.get(key)?.version, before.get(key)?.version, `${key} has its new version`);
    assert.equal(after.get('["2"]')?.internal_id, before.get('["2"]')?.internal_id);
    assert.deepEqual(after.get('["3"]'), before.get('["3"]'), 'an untouched record keeps its binding');
    const pagesAfter = await pages();
    for (const key of ['["2"]', '["7"]', '["8"]']) assert.equal(pagesAfter.get(key), pagesBefore.get(key), `${key}'s new version is on its page`);
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });

  it('a record B refuses keeps its old binding, beside records B took, and is written once fixed', async () => {
    const before = await bindings();
    await touch([1, 5, 9]);
    await touch([4], "name = 'REJECT ME'");

    const refused = await h.run({ stream });
    assert.deepEqual({ ...refused.counts }, { created: 0, updated: 3, skipped: 0, deleted: 0, failed: 1 });
    const after = await bindings();
    assert.deepEqual(after.get('["4"]'), before.get('["4"]'), 'the refused record still has the version B holds');
    for (const key of ['["1"]', '["5"]', '["9"]']) assert.notEqual(after.get(key)?.version, before.get(key)?.version, `${key} has its new version`);
    const letters = await h.db.pool.query(`select record_key, stage from ferry_dead_letters where stream = $1`, [stream]);
    assert.deepEqual(letters.rows, [{ record_key: '["4"]', stage: 'target' }]);

    await touch([4], "name = 'Customer 4'");
    const fixed = await h.run({ stream });
    assert.deepEqual({ ...fixed.counts }, { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    assert.notEqual((await bindings()).get('["4"]')?.version, before.get('["4"]')?.version);
    assert.equal((await h.db.pool.query(`select 1 from ferry_dead_letters where stream = $1`, [stream])).rowCount, 0);
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });
});
