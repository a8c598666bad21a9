// Record-level errors (ARCHITECTURE.md, guarantee 6): a record failing the
// schema, the mapping or the target goes to ferry_dead_letters with what went
// wrong and its raw data; the rest of its batch goes through; fixing the source
// and running again clears it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { createHarness, type Harness } from './support/harness.js';
import { createCustomerTables, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';

interface DeadLetter {
  record_key: string;
  stage: string;
  error: string;
  issues: { path: string; message: string }[];
  raw: Record<string, unknown>;
  attempts: number;
  run_id: string;
  first_failed_at: Date;
  last_failed_at: Date;
}

async function deadLetters(h: Harness, stream: string): Promise<DeadLetter[]> {
  const { rows } = await h.db.pool.query<DeadLetter>(
    `select record_key, stage, error, issues, raw, attempts, run_id, first_failed_at, last_failed_at
     from ferry_dead_letters where stream = $1 order by record_key`,
    [stream],
  );
  return rows;
}

/** A source row as the Postgres source reads it (int8 as text, timestamps as Postgres prints them). */
async function rawRow(h: Harness, table: string, id: number): Promise<Record<string, unknown>> {
  const { rows } = await h.db.pool.query(`select id::text as id, email, name, score, updated_at::text as updated_at from ${table} where id = $1`, [id]);
  assert.equal(rows.length, 1);
  return rows[0];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('dead letters', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness('deadletters');
  });
  after(() => h.close());

  describe('schema, mapping and target failures', () => {
    let tables: { source: string; target: string };
    let stream: string;

    before(async () => {
      tables = await createCustomerTables(h.db.pool, '_dl');
      stream = h.name('deadletters.customers');
      await h.startWorker([customerStream(stream, h.db.url, tables, { batchSize: 10 })]);
      await seedCustomers(h.db.pool, tables.source, 20);
      // all three in the first batch, with valid records around them
      await h.db.pool.query(`update ${tables.source} set email = 'not-an-email' where id = 3`);
      await h.db.pool.query(`update ${tables.source} set score = -5 where id = 6`);
      await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME' where id = 9`);
    });

    it('sends each failing record to the dead-letter table with stage, error and raw record; the rest go through', async () => {
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.deepEqual({ ...summary.counts }, { created: 17, updated: 0, skipped: 0, deleted: 0, failed: 3 });
      const expected = (await sourceRows(h.db.pool, tables.source)).filter((r) => !/^(3|6|9)\|/.test(r));
      assert.deepEqual(await targetRows(h.db.pool, tables.target), expected);

      const letters = await deadLetters(h, stream);
      assert.deepEqual(letters.map((l) => [l.record_key, l.stage, l.attempts, l.run_id]), [
        ['["3"]', 'validate', 1, summary.runId],
        ['["6"]', 'map', 1, summary.runId],
        ['["9"]', 'target', 1, summary.runId],
      ]);
      const [invalid, unmapped, rejected] = letters as [DeadLetter, DeadLetter, DeadLetter];
      const about = (key: string) => new RegExp(`^stream "${escape(stream)}", record \\["${key}"\\]: `);

      assert.match(invalid.error, about('3'));
      assert.match(invalid.error, /field "email": Invalid email/);
      assert.deepEqual(invalid.issues.map((i) => i.path), ['email']);
      assert.deepEqual(invalid.raw, await rawRow(h, tables.source, 3));

      assert.match(unmapped.error, about('6'));
      assert.match(unmapped.error, /field "score": score must not be negative/);
      assert.deepEqual(unmapped.issues, [{ path: 'score', message: 'score must not be negative' }]);
      assert.deepEqual(unmapped.raw, await rawRow(h, tables.source, 6));

      assert.match(rejected.error, about('9'));
      assert.match(rejected.error, /field "name"/);
      assert.match(rejected.error, /violates check constraint "dst_customers_dl_name_check"/);
      assert.deepEqual(rejected.issues.map((i) => i.path), ['name']);
      assert.deepEqual(rejected.raw, await rawRow(h, tables.source, 9));

      const run = (await h.db.pool.query(`select status, failed, created from ferry_runs where id = $1`, [summary.runId])).rows[0];
      assert.deepEqual(run, { status: 'succeeded', failed: 3, created: 17 });
      // none of them holds a binding: they are not in the target
      const bound = await h.db.pool.query(`select record_key from ferry_bindings where stream = $1 and record_key = any($2)`, [stream, ['["3"]', '["6"]', '["9"]']]);
      assert.equal(bound.rowCount, 0);
    });

    it('fixing the source row and running again removes its dead letter', async () => {
      await h.db.pool.query(`update ${tables.source} set email = 'fixed3@example.com', updated_at = clock_timestamp() where id = 3`);
      await h.db.pool.query(`update ${tables.source} set name = 'Fixed Nine', updated_at = clock_timestamp() where id = 9`);
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.deepEqual({ ...summary.counts }, { created: 2, updated: 0, skipped: 0, deleted: 0, failed: 0 });
      assert.deepEqual((await deadLetters(h, stream)).map((l) => l.record_key), ['["6"]']);
      const expected = (await sourceRows(h.db.pool, tables.source)).filter((r) => !r.startsWith('6|'));
      assert.deepEqual(await targetRows(h.db.pool, tables.target), expected);
    });

    it('a record failing again keeps one dead letter, with its attempts counted and the newest error and data', async () => {
      await h.db.pool.query(`update ${tables.source} set score = -7, updated_at = clock_timestamp() where id = 6`);
      const second = await h.run({ stream });
      assert.deepEqual({ ...second.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 1 });
      let letters = await deadLetters(h, stream);
      assert.equal(letters.length, 1);
      assert.equal(letters[0]?.attempts, 2);
      assert.equal(letters[0]?.run_id, second.runId);
      assert.equal(letters[0]?.raw.score, -7);
      assert.ok((letters[0]?.last_failed_at.getTime() ?? 0) > (letters[0]?.first_failed_at.getTime() ?? 0));

      // a full pass reads it once more: a third attempt, still one row
      const full = await h.run({ stream, full: true });
      assert.deepEqual({ ...full.counts }, { created: 0, updated: 0, skipped: 19, deleted: 0, failed: 1 });
      letters = await deadLetters(h, stream);
      assert.deepEqual(letters.map((l) => [l.record_key, l.attempts, l.stage]), [['["6"]', 3, 'map']]);
      const failedRuns = (await h.db.pool.query(`select failed from ferry_runs where stream = $1 order by started_at`, [stream])).rows.map((r) => r.failed);
      assert.deepEqual(failedRuns, [3, 0, 1, 1]);
    });
  });

  it('a record fixed back to what the target already has leaves the queue (hash versions)', async () => {
    // A snapshot stream: no cursor, the version is a hash of the record.
    await h.db.pool.query(`
      create table src_tags (id bigint primary key, label text not null);
      create table dst_tags (id bigint primary key, label text not null);
      insert into src_tags select g, 'tag ' || g from generate_series(1, 5) g;`);
    const stream = h.name('deadletters.tags');
    const schema = z.object({ id: z.string(), label: z.string().regex(/^tag \d+$/) });
    await h.startWorker([
      defineStream({
        name: stream,
        source: postgresSource({ url: h.db.url, table: 'src_tags', system: 'crm' }),
        schema,
        target: postgresTarget({ url: h.db.url, table: 'dst_tags', key: 'id', system: 'app' }),
        key: 'id',
        batchSize: 10,
        retry: { maximumAttempts: 2, initialInterval: '100ms' },
      }),
    ]);
    const first = await h.run({ stream });
    assert.deepEqual({ ...first.counts }, { created: 5, updated: 0, skipped: 0, deleted: 0, failed: 0 });

    await h.db.pool.query(`update src_tags set label = 'oops' where id = 2`);
    const broken = await h.run({ stream });
    assert.deepEqual({ ...broken.counts }, { created: 0, updated: 0, skipped: 4, deleted: 0, failed: 1 });
    assert.deepEqual((await deadLetters(h, stream)).map((l) => [l.record_key, l.stage]), [['["2"]', 'validate']]);

    await h.db.pool.query(`update src_tags set label = 'tag 2' where id = 2`);
    const fixed = await h.run({ stream });
    assert.deepEqual({ ...fixed.counts }, { created: 0, updated: 0, skipped: 5, deleted: 0, failed: 0 });
    assert.deepEqual(await deadLetters(h, stream), [], 'the record is valid and in the target: its dead letter is stale');
    const target = (await h.db.pool.query(`select id::text, label from dst_tags order by id`)).rows;
    assert.deepEqual(target, (await h.db.pool.query(`select id::text, label from src_tags order by id`)).rows);
  });
});
