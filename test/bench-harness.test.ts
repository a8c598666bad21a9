// The bench's own measuring parts (bench/): the content check every tool's target
// goes through, the timed child that gives COPY's and the peers' peak RSS, and a
// peer that cannot be installed being reported with its reason (not skipped).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPeers } from '../bench/peers/peers.js';
import { SOURCE_COLUMNS, contentHash, createSourceTable, ferryStateTables, sourceHash } from '../bench/tables.js';
import { ChildFailed, canMeasureChildRss, runTimed } from '../bench/timed-child.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { repoRoot } from './support/harness.js';

describe('bench harness', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase('bench_harness');
    await createSourceTable(db.pool, 'bench_src', 3000);
  });
  after(() => db.drop());

  it("content hash: equal through a peer's own types, different when one value or row differs", async () => {
    const source = await sourceHash(db.pool, 'bench_src');
    assert.equal(source.rows, 3000);
    assert.match(source.md5, /^[0-9a-f]{32}$/);
    // a peer's table: other types (Sling: numeric without scale; dlt: varchar, bigint), other
    // column order, extra columns, e-mail not lower-cased
    await db.pool.query(`
      create table peer_dst as
      select 'x'::varchar as _dlt_id, city::varchar, id, email::varchar, first_name::varchar, last_name::varchar, country::varchar,
             score::bigint, balance::numeric, active, created_at, updated_at
      from bench_src`);
    const same = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.deepEqual(same, source);
    // ferry's shape: own id, renamed key and cursor columns, lower-cased e-mail
    await db.pool.query(`
      create table ferry_like as
      select row_number() over () + 100 as own_id, id as src_id, lower(email) as email, first_name, last_name, country, city, score, balance, active,
             created_at, updated_at as source_updated_at from bench_src`);
    const ferry = await contentHash(db.pool, 'ferry_like', ['src_id', 'email', 'first_name', 'last_name', 'country', 'city', 'score', 'balance', 'active', 'created_at', 'source_updated_at']);
    assert.deepEqual(ferry, source);

    await db.pool.query(`update peer_dst set balance = balance + 0.01 where id = 1234`);
    const changed = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.equal(changed.rows, 3000);
    assert.notEqual(changed.md5, source.md5);
    await db.pool.query(`update peer_dst set balance = balance - 0.01 where id = 1234`);
    assert.deepEqual(await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS), source);

    await db.pool.query(`delete from peer_dst where id = 2999`);
    const missing = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.equal(missing.rows, 2999);
    assert.notEqual(missing.md5, source.md5);
  });

  it('finds the state-store tables instead of a fixed list', async () => {
    await db.pool.query(`create table ferry_migrations (name text); create table ferry_something (x int); create table ferry_other (y int)`);
    assert.deepEqual(await ferryStateTables(db.pool), ['ferry_like', 'ferry_other', 'ferry_something']);
  });

  it('times a child and reports the peak RSS of its largest process; a failure says which and why', async (t) => {
    if (!canMeasureChildRss()) return t.skip('GNU time is not installed (apt-get install time)');
    // a grandchild that touches 64 MiB: ru_maxrss of the reaped tree reaches it
    const r = await runTimed('allocating child', 'bash', ['-c', `node -e "const b = Buffer.alloc(64 * 1024 * 1024, 1); console.log(b[5])"`]);
    assert.equal(r.stdout.trim(), '1');
    assert.ok(r.peakRss >= 64 * 1024 * 1024, `peak RSS ${r.peakRss} should include the 64 MiB buffer`);
    assert.ok(r.wallMs > 0);
    await assert.rejects(runTimed('failing child', 'bash', ['-c', 'echo "no such table" >&2; exit 3']), (err: unknown) => {
      assert.ok(err instanceof ChildFailed);
      assert.equal(err.code, 3);
      assert.match(err.message, /failing child exited with 3: no such table/);
      return true;
    });
  });

  it('a peer that cannot be installed is reported with the reason, not skipped', async () => {
    const venv = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-peers-'));
    try {
      const out = execFileSync('bash', [path.join(repoRoot, 'scripts/ensure-bench-peers.sh')], {
        env: { ...process.env, BENCH_VENV: venv, BENCH_PYTHON: 'no-such-python3' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const statusFile = out.trim();
      assert.equal(statusFile, path.join(venv, 'peers.json'));
      const status = JSON.parse(await readFile(statusFile, 'utf8')) as Record<string, { installed: boolean; reason?: string }>;
      assert.deepEqual(Object.keys(status).sort(), ['dlt', 'sling']);
      const { peers, missing } = loadPeers(statusFile, ['sling', 'dlt', 'dlt-defaults'], { url: db.url, source: 'bench_src', workDir: venv });
      assert.deepEqual(peers, []);
      assert.deepEqual(
        missing.map((m) => m.name),
        ['sling', 'dlt', 'dlt-defaults'],
      );
      for (const m of missing) assert.match(m.reason, /no no-such-python3 on PATH/);
      // no status file at all (the install step did not run): reported too
      const none = loadPeers(path.join(venv, 'absent.json'), ['sling'], { url: db.url, source: 'bench_src', workDir: venv });
      assert.match(none.missing[0]?.reason ?? '', /ensure-bench-peers\.sh did not run/);
    } finally {
      await rm(venv, { recursive: true, force: true });
    }
  });
});
