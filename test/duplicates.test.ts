// Duplicate keys in one batch: a change-log source yields one row per change,
// so a customer changed twice appears twice. The last change wins, the earlier
// ones count as skipped, and nothing fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables } from './support/customers.js';

const changeSchema = z.object({
  seq: z.string().regex(/^\d+$/),
  customer_id: z.string().regex(/^\d+$/),
  email: z.email(),
  name: z.string().min(1),
  score: z.number().int(),
  updated_at: z.string(),
});

/** Appends one change per entry, in order (seq follows the array). */
async function appendChanges(h: Harness, table: string, changes: [customer: number, name: string][]): Promise<void> {
  for (const [customer, name] of changes) {
    await h.db.pool.query(`insert into ${table} (customer_id, email, name, score) values ($1::bigint, 'c' || $1::bigint || '@example.com', $2, length($2))`, [customer, name]);
  }
}

/** customer_id|name of the target, by customer. */
async function targetNames(h: Harness, table: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ r: string }>(`select customer_id || '|' || name || '|' || score as r from ${table} order by customer_id`);
  return rows.map((x) => x.r);
}

/** The last change of each customer, as the target should hold it. */
async function lastChanges(h: Harness, table: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ r: string }>(
    `select distinct on (customer_id) customer_id || '|' || name || '|' || score as r from ${table} order by customer_id, seq desc`,
  );
  return rows.map((x) => x.r);
}

describe('duplicate keys in a batch', () => {
  let h: Harness;
  let log: string;
  let tables: { source: string; target: string };
  let stream: string;

  before(async () => {
    h = await createHarness('duplicates');
    tables = await createCustomerTables(h.db.pool, '_dup');
    log = 'customer_changes';
    await h.db.pool.query(`
      create table ${log} (
        seq bigserial primary key,
        customer_id bigint not null,
        email text,
        name text not null,
        score integer not null,
        updated_at timestamptz not null default clock_timestamp()
      )`);
    stream = h.name('duplicates.changes');
    await h.startWorker([
      defineStream({
        name: stream,
        source: postgresSource({ url: h.db.url, table: log, system: 'crm', cursor: { column: 'seq', kind: 'sequence' } }),
        schema: changeSchema,
        map: (c) => ({ kind: 'customer', fields: { customer_id: c.customer_id, email: c.email, name: c.name, score: c.score, source_updated_at: c.updated_at } }),
        target: postgresTarget({ url: h.db.url, table: tables.target, key: 'customer_id', idColumn: 'id', system: 'app' }),
        key: 'customer_id',
        batchSize: 10,
        retry: { maximumAttempts: 2, initialInterval: '100ms' },
      }),
    ]);
  });
  after(() => h.close());

  it('the last change of a key in a batch wins; earlier ones are skipped, nothing fails', async () => {
    // batch 1 (seq 1-10): customer 1 four times, 2 three times, 3 twice, 4 once
    // batch 2 (seq 11-20): customer 1 twice, 5 eight times
    // batch 3 (seq 21-23): customer 2, 6, 2
    await appendChanges(h, log, [
      [1, 'a1'], [2, 'b1'], [1, 'a2'], [3, 'c1'], [1, 'a3'], [2, 'b2'], [4, 'd1'], [3, 'c2'], [2, 'b3'], [1, 'a4'],
      [5, 'e1'], [1, 'a5'], [5, 'e2'], [5, 'e3'], [5, 'e4'], [5, 'e5'], [1, 'a6'], [5, 'e6'], [5, 'e7'], [5, 'e8'],
      [2, 'b4'], [6, 'f1'], [2, 'b5'],
    ]);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.records, 23);
    assert.equal(summary.batches, 3);
    // batch 1: 4 created, 6 skipped; batch 2: 1 updated (customer 1), 1 created (5), 8 skipped;
    // batch 3: 1 updated (2), 1 created (6), 1 skipped
    assert.deepEqual({ ...summary.counts }, { created: 6, updated: 2, skipped: 15, deleted: 0, failed: 0 });
    assert.deepEqual(await targetNames(h, tables.target), ['1|a6|2', '2|b5|2', '3|c2|2', '4|d1|2', '5|e8|2', '6|f1|2']);
    assert.deepEqual(await targetNames(h, tables.target), await lastChanges(h, log));
    assert.equal((await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters`)).rows[0].n, 0);
    const cp = (await h.db.pool.query(`select cursor from ferry_checkpoints where stream = $1`, [stream])).rows[0].cursor;
    assert.deepEqual(cp, { value: '23', key: ['2'] });
  });

  it('when the last change of a key in a batch is invalid, it is dead-lettered and the earlier ones do not overwrite the target', async () => {
    // customer 1: a valid change, then an invalid one (empty name) in the same batch;
    // customer 7 (new): the same. Customer 3: invalid first, then valid: the valid one wins.
    await appendChanges(h, log, [[1, 'a7'], [7, 'g1'], [3, ''], [1, ''], [7, ''], [3, 'c3']]);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.records, 6);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: 1, skipped: 3, deleted: 0, failed: 2 });
    // customer 1 keeps its previous state, 7 is not created, 3 takes c3
    assert.deepEqual(await targetNames(h, tables.target), ['1|a6|2', '2|b5|2', '3|c3|2', '4|d1|2', '5|e8|2', '6|f1|2']);
    const letters = (await h.db.pool.query(`select record_key, stage, raw->>'seq' as seq from ferry_dead_letters where stream = $1 order by record_key`, [stream])).rows;
    assert.deepEqual(letters, [
      { record_key: '["1"]', stage: 'validate', seq: '27' },
      { record_key: '["7"]', stage: 'validate', seq: '28' },
    ]);
  });
});
