// Crash safety of a linked pair's export with write-back (ARCHITECTURE.md,
// guarantees 1 and 9): a real worker in a child process is SIGKILLed twice
// while it exports customers in batches (each batch's write to 1C is slowed,
// so the kills land inside batches); a fresh worker resumes each time. Every
// customer reaches 1C once and is counted once, every link names the 1C row
// the write-back put on the site row, and the import afterwards finds only
// echoes to skip.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { createPairTables, type PairTables } from './support/links-pair.js';
import { waitFor, workerChildEnv, WorkerChildren } from './support/worker-children.js';

const CUSTOMERS = 600;

describe('linked export with write-back survives SIGKILL', () => {
  let h: Harness;
  let t: PairTables;
  let pair: string;
  let workers: WorkerChildren;

  before(async () => {
    h = await createHarness('links_crash');
    t = await createPairTables(h.db.pool, 'crash');
    pair = h.name('crash');
    // Each write to 1C takes a while, as a remote system's does: kills land mid-batch.
    await h.db.pool.query(`
      create function slow_1c() returns trigger language plpgsql as $$ begin perform pg_sleep(0.12); return null; end $$;
      create trigger slow_1c after insert or update on ${t.onec} for each statement execute function slow_1c();
      insert into ${t.users} (email, phone, first_name, last_name)
      select 'c' || g || '@example.com', '+7999' || lpad(g::text, 7, '0'), 'First' || g, 'Last' || g from generate_series(1, ${CUSTOMERS}) g;`);
    workers = new WorkerChildren(
      workerChildEnv(h, 'links-crash.config.ts', {
        FERRY_LINKS_PAIR: pair,
        FERRY_LINKS_USERS: t.users,
        FERRY_LINKS_ONEC: t.onec,
      }),
      path.join(repoRoot, '.ferry', `links-crash-workers-${h.db.name}.log`),
    );
  });
  after(async () => {
    await workers?.killAll();
    await h.close();
  });

  const linkCount = async () => (await h.db.pool.query(`select count(*)::int as n from ferry_links where pair = $1`, [pair])).rows[0].n as number;

  it('kills mid-run lose nothing, duplicate nothing, and leave no echo', async () => {
    await workers.start();
    const handle = await h.start({ stream: `${pair}.export` });
    for (const atLeast of [100, 340]) {
      await waitFor(`${atLeast} links`, async () => (await linkCount()) >= atLeast, 90_000, 20);
      await workers.kill();
      await workers.start();
    }
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: CUSTOMERS, updated: 0, skipped: 0, deleted: 0, failed: 0 }, 'every customer counted once');

    const onec = await h.db.pool.query(`select count(*)::int as n, count(distinct platform_id)::int as d, max(revisions)::int as r from ${t.onec}`);
    assert.deepEqual(onec.rows[0], { n: CUSTOMERS, d: CUSTOMERS, r: onec.rows[0].r });
    const users = await h.db.pool.query(`
      select count(*) filter (where u.sync_status = 'synced' and not u.needs_1c_export and u.onec_id = o.ref::text)::int as ok,
             count(*) filter (where l.remote_key = json_build_array(o.ref::text)::text and l.local_key = json_build_array(u.id::text)::text)::int as linked
      from ${t.users} u join ${t.onec} o on o.platform_id = u.id::text
      left join ferry_links l on l.pair = $1 and l.local_key = json_build_array(u.id::text)::text`, [pair]);
    assert.deepEqual(users.rows[0], { ok: CUSTOMERS, linked: CUSTOMERS }, 'every row written back, every link names its 1C row');
    assert.equal(await linkCount(), CUSTOMERS);
    assert.equal((await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters`)).rows[0].n, 0);

    const echo = await h.run({ stream: `${pair}.import` });
    assert.deepEqual({ ...echo.counts }, { created: 0, updated: 0, skipped: CUSTOMERS, deleted: 0, failed: 0 }, 'the import finds only the export’s echoes');
    assert.ok(workers.started >= 3);
  });
});
