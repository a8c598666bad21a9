// A replay reads every dead letter it was asked to replay, however many pages
// they take and whatever their ids: ids are bigints, and pages follow them as
// numbers (a text keyset would put "10000" before "9995" and skip the rest).
// A replay that leaves some of them in the queue says how many and exits 7.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MappingError } from '../src/core/errors.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import { runCli } from './support/cli.js';
import { createCustomerTables, customerStream, seedCustomers } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories } from './support/history.js';

interface ReplayJson {
  stream: string;
  selected: number;
  outcome: string;
  summary?: RunSummary;
  stillFailing?: { id: string; key: string[] | null }[];
}

/** Customer ids whose records the mapper holds back in the first replays. */
const held = (id: string) => Number(id) % 10 === 7;

describe('dead-letter replay paging', () => {
  let h: Harness;
  let stream: string;
  let tables: { source: string; target: string };
  /** 'refuse': every record is refused (how the dead letters arise); 'hold': all but `held`; 'fixed': none */
  let mapper: 'refuse' | 'hold' | 'fixed' = 'refuse';

  before(async () => {
    h = await createHarness('dlqpaging');
    stream = h.name('dlq.paging');
    tables = await createCustomerTables(h.db.pool);
    await h.startWorker([
      customerStream(stream, h.db.url, tables, {
        // 5 per page and continue-as-new every 3 pages (or sooner): 48 dead letters take 10 pages over 4 executions or more
        batchSize: 5,
        continueAsNewEvery: 3,
        map: (c) => {
          if (mapper === 'refuse' || (mapper === 'hold' && held(c.id))) throw new MappingError(`held for review (${mapper})`, 'id');
          return { kind: 'customer', fields: { customer_id: c.id, email: c.email, name: c.name, score: c.score, source_updated_at: c.updated_at } };
        },
      }),
    ]);
  });
  after(() => h.close());

  const cli = (...args: string[]) => runCli(h, args, stream, tables);

  async function queue(): Promise<{ id: string; record_key: string; attempts: number; run_id: string }[]> {
    // id: bigint (pg gives it as a string), ordered as a number
    const { rows } = await h.db.pool.query(`select id, record_key, attempts, run_id from ferry_dead_letters where stream = $1 order by id`, [stream]);
    return rows;
  }

  async function targetIds(): Promise<number[]> {
    const { rows } = await h.db.pool.query<{ id: string }>(`select customer_id::text as id from ${tables.target} order by customer_id`);
    return rows.map((r) => Number(r.id));
  }

  it('replays every dead letter across ten pages and several executions with ids from 1 to 5 digits; the held ones remain, counted, exit 7', async () => {
    // 4 syncs of 12 new customers, each refused whole, with the id sequence moved just below 10, 100, 1000, 10000
    for (const [i, boundary] of [10, 100, 1_000, 10_000].entries()) {
      await h.db.pool.query(`select setval('ferry_dead_letters_id_seq', $1)`, [boundary - 7]);
      await seedCustomers(h.db.pool, tables.source, 12, 1 + 12 * i);
      const summary = await h.run({ stream });
      assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 12 });
    }
    const letters = await queue();
    assert.equal(letters.length, 48);
    assert.deepEqual([...new Set(letters.map((l) => l.id.length))], [1, 2, 3, 4, 5], `ids straddle each digit count: ${letters.map((l) => l.id).join(' ')}`);
    for (const b of [10, 100, 1_000, 10_000]) {
      assert.ok(letters.some((l) => Number(l.id) < b) && letters.some((l) => Number(l.id) >= b), `ids on both sides of ${b}`);
    }

    mapper = 'hold';
    const r = await cli('dlq', 'replay', stream, '--json');
    const out = JSON.parse(r.stdout) as { replays: ReplayJson[] };
    const replay = out.replays[0] as ReplayJson;
    const summary = replay.summary as RunSummary;

    const everyone = Array.from({ length: 48 }, (_, i) => i + 1);
    assert.deepEqual(await targetIds(), everyone.filter((id) => !held(String(id))), 'every replayed record reached the target');
    assert.deepEqual(
      (await queue()).map((l) => [l.record_key, l.attempts, l.run_id]),
      everyone.filter((id) => held(String(id))).map((id) => [`["${id}"]`, 2, summary.runId]),
      'the held records stay: read once, failed again',
    );
    assert.equal(summary.records, 48, 'all 48 read');
    assert.equal(summary.batches, 10);
    const chain = await chainHistories(h.client, stream);
    assert.ok(chain.length >= 4, `the keyset position crossed continue-as-new: ${chain.length} executions`);
    assert.deepEqual(activityAttempts(chain, 'countReplayLeft'), [1], 'what is left is counted once, at the end');
    assert.deepEqual({ ...summary.counts }, { created: 43, updated: 0, skipped: 0, deleted: 0, failed: 5 });
    assert.deepEqual(summary.deadLetters, { selected: 48, replayed: 43, remaining: 5 });
    assert.equal(summary.status, 'warning');
    assert.equal(replay.outcome, 'incomplete');
    assert.deepEqual(replay.stillFailing?.map((l) => l.key), [['7'], ['17'], ['27'], ['37'], ['47']]);
    assert.equal(r.code, 7, `a replay that leaves dead letters exits 7; stderr: ${r.stderr}`);
    const run = (await h.db.pool.query(`select status, message from ferry_runs where id = $1`, [summary.runId])).rows[0];
    assert.equal(run.status, 'warning');
    assert.match(run.message, /^replayed 43 of 48 selected dead letters; 5 remain in the queue \(5 failed again\)/);
  });

  it('says in text how many are left (exit 7), and once fixed replays them all (exit 0), leaving none', async () => {
    const again = await cli('dlq', 'replay', stream);
    assert.equal(again.code, 7, again.stderr);
    assert.match(again.stdout, new RegExp(`^${stream.replace(/[.]/g, '\\.')}: replay incomplete — created 0, updated 0, skipped 0, deleted 0, failed 5; 0 of 5 dead letters replayed, 5 left in the queue \\(run `));
    assert.match(again.stdout, /still in the queue \(failed again\):\n\s+id\s+key\s+stage\s+attempts\s+error\n\s+\d+\s+7\s+map\s+3\s+field "id": held for review \(hold\)/);
    assert.equal((await queue()).length, 5);

    mapper = 'fixed';
    const done = await cli('dlq', 'replay', stream, '--json');
    assert.equal(done.code, 0, done.stderr);
    const replay = (JSON.parse(done.stdout) as { replays: ReplayJson[] }).replays[0] as ReplayJson;
    assert.equal(replay.outcome, 'succeeded');
    assert.equal(replay.summary?.status, 'succeeded');
    assert.deepEqual(replay.summary?.deadLetters, { selected: 5, replayed: 5, remaining: 0 });
    assert.deepEqual(replay.stillFailing, []);
    assert.deepEqual(await queue(), []);
    assert.deepEqual(await targetIds(), Array.from({ length: 48 }, (_, i) => i + 1));
  });
});
