// Linked pairs (issue #9), the no-echo and what-is-exported half: real
// workflows on a real Temporal dev server, both sides in Postgres. A 1C-side
// edit is imported and not exported back; a site-side write is exported and
// not imported back; a login (updated_at, last_login) exports nothing, a phone
// change once; write-back after each exported record, on success and failure;
// rows made from 1C are never exported; old bindings become links.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream, type StreamDefinition } from '../src/config/define-stream.js';
import { StreamRegistry } from '../src/config/load-config.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { createStateDb } from '../src/state/db.js';
import { migrateTo, migrateToLatest } from '../src/state/migrate.js';
import { createTestDatabase } from './support/database.js';
import { createHarness, type Harness } from './support/harness.js';
import { addUser, createPairTables, onecCustomer, onecRow, pairStreams, siteCustomer, siteUser, type PairTables } from './support/links-pair.js';
import { versionOf } from '../src/core/version.js';
import { SIGNIFICANT } from './support/links-pair.js';

const counts = (s: { counts: object }) => ({ ...s.counts });

describe('linked pair: no echo, significant fields, write-back', () => {
  let h: Harness;
  let t: PairTables;
  let exportName: string;
  let importName: string;
  let legacy: { t: PairTables; exportName: string; importName: string; pair: string };

  before(async () => {
    h = await createHarness('links_sync');
    t = await createPairTables(h.db.pool, 'sync');
    const pair = h.name('customers');
    const { exportStream, importStream } = pairStreams(pair, h.db.url, t, { conflicts: 'source-wins' });
    exportName = exportStream.resolved.name;
    importName = importStream.resolved.name;
    const lt = await createPairTables(h.db.pool, 'legacy');
    const legacyPair = h.name('legacy');
    const l = pairStreams(legacyPair, h.db.url, lt, { conflicts: 'target-wins', writeBack: false });
    legacy = { t: lt, exportName: l.exportStream.resolved.name, importName: l.importStream.resolved.name, pair: legacyPair };
    const filtered = defineStream({
      name: h.name('flagged'),
      source: postgresSource({ url: h.db.url, table: t.users, system: 'site', cursor: { column: 'updated_at', kind: 'timestamp' }, where: 'needs_1c_export and not created_in_1c' }),
      schema: z.object({ id: z.number(), email: z.string().nullable() }).passthrough(),
      map: (u) => ({ kind: 'flagged', fields: { id: u.id, email: u.email } }),
      target: postgresTarget({ url: h.db.url, table: 'flagged_copy', key: 'id', system: 'copy' }),
      key: 'id',
    });
    await h.db.pool.query(`create table flagged_copy (id integer primary key, email text)`);
    await h.startWorker([exportStream, importStream, l.exportStream, l.importStream, filtered]);
  });
  after(() => h.close());

  it('a registration is exported once, and the export writes back onec_id, synced, needs_1c_export = false', async () => {
    const id = await addUser(h.db.pool, t, { email: 'anna@example.com', phone: '+79990000001', first_name: 'Anna', last_name: 'Petrova' });
    const first = await h.run({ stream: exportName });
    assert.deepEqual(counts(first), { created: 1, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const row = await onecRow(h.db.pool, t, String(id));
    assert.ok(row, 'the customer is in 1C');
    const user = await siteUser(h.db.pool, t, id);
    assert.equal(user.onec_id, row.ref);
    assert.equal(user.sync_status, 'synced');
    assert.equal(user.needs_1c_export, false);
    assert.equal(user.sync_error_message, null);
    assert.ok(user.last_sync_at instanceof Date);
    // The write-back touched the row (updated_at moved): the next run reads it, and it is no profile change.
    const again = await h.run({ stream: exportName });
    assert.deepEqual(counts(again), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    assert.equal((await onecRow(h.db.pool, t, String(id)))?.revisions, 0);
    const idle = await h.run({ stream: exportName });
    assert.equal(idle.records, 0, 'a write-back of a record already in sync changes no row, so nothing is read again');
  });

  it("the export's write to 1C is not imported back", async () => {
    const summary = await h.run({ stream: importName });
    assert.deepEqual(counts(summary), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
  });

  it('a login (updated_at, last_login) exports nothing; a phone change exports once', async () => {
    const id = 1;
    await h.db.pool.query(`update ${t.users} set last_login = now() where id = $1`, [id]);
    // A dry run sees through the links too: nothing to write.
    const dry = (await h.client.workflow.execute('dryRun', { workflowId: `dry-run:${exportName}`, taskQueue: h.settings.taskQueue, args: [{ stream: exportName }] })) as { counts: object };
    assert.deepEqual({ ...dry.counts }, { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    const login = await h.run({ stream: exportName });
    assert.equal(login.records, 1, 'the login moved updated_at: the row is read');
    assert.deepEqual(counts(login), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    assert.equal((await onecRow(h.db.pool, t, String(id)))?.revisions, 0, '1C untouched');

    await h.db.pool.query(`update ${t.users} set phone = '+79990000002' where id = $1`, [id]);
    const phone = await h.run({ stream: exportName });
    assert.deepEqual(counts(phone), { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    assert.equal((await onecCustomer(h.db.pool, t, String(id))).phone, '+79990000002');
    assert.equal((await onecRow(h.db.pool, t, String(id)))?.revisions, 1);
    const after = await h.run({ stream: exportName });
    assert.equal(after.counts.updated + after.counts.created, 0);
    const back = await h.run({ stream: importName });
    assert.deepEqual(counts(back), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    assert.equal((await onecRow(h.db.pool, t, String(id)))?.revisions, 1, 'exported exactly once');
  });

  it('a 1C-side edit is imported and not exported back', async () => {
    const id = 1;
    await h.db.pool.query(`update ${t.onec} set email = 'anna.petrova@example.com', role = 'wholesale' where platform_id = $1`, [String(id)]);
    const imported = await h.run({ stream: importName });
    assert.deepEqual(counts(imported), { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await siteCustomer(h.db.pool, t, id), { email: 'anna.petrova@example.com', phone: '+79990000002', first_name: 'Anna', last_name: 'Petrova', role: 'wholesale' });
    const revisions = (await onecRow(h.db.pool, t, String(id)))?.revisions;
    const exported = await h.run({ stream: exportName });
    assert.equal(exported.records, 1, 'the import moved the row: the export reads it');
    assert.deepEqual(counts(exported), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    assert.equal((await onecRow(h.db.pool, t, String(id)))?.revisions, revisions, 'nothing went back to 1C');
    const quiet = await h.run({ stream: importName });
    assert.equal(quiet.counts.updated + quiet.counts.created, 0);
  });

  it('a customer created in 1C is imported (created_in_1c) and never exported', async () => {
    await h.db.pool.query(`insert into ${t.onec} (email, phone, first_name, last_name, role) values ('ivan@example.com', '+79990000003', 'Ivan', 'Sidorov', 'customer')`);
    const before = (await h.db.pool.query(`select count(*)::int as n from ${t.onec}`)).rows[0].n as number;
    const imported = await h.run({ stream: importName });
    assert.deepEqual(counts(imported), { created: 1, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const { rows } = await h.db.pool.query(`select id, created_in_1c from ${t.users} where email = 'ivan@example.com'`);
    assert.equal(rows[0].created_in_1c, true);
    const exported = await h.run({ stream: exportName });
    assert.equal(exported.records, 0, 'the source filter keeps rows made from 1C out');
    assert.equal((await h.db.pool.query(`select count(*)::int as n from ${t.onec}`)).rows[0].n, before);
  });

  it("a record 1C refuses is a dead letter, and its row says so with 1C's error; fixed, it goes out and the error is cleared", async () => {
    const id = await addUser(h.db.pool, t, { email: 'no-at-sign', phone: '+79990000004', first_name: 'Oleg', last_name: 'Bad' });
    const failed = await h.run({ stream: exportName });
    assert.equal(failed.counts.failed, 1);
    const user = await siteUser(h.db.pool, t, id);
    assert.equal(user.sync_status, 'error');
    assert.match(user.sync_error_message ?? '', /check constraint/);
    assert.equal(user.onec_id, null);
    const { rows } = await h.db.pool.query(`select error from ferry_dead_letters where stream = $1`, [exportName]);
    assert.equal(rows.length, 1);
    assert.match(rows[0].error, /check constraint/);

    await h.db.pool.query(`update ${t.users} set email = 'oleg@example.com' where id = $1`, [id]);
    const fixed = await h.run({ stream: exportName });
    assert.equal(fixed.counts.created, 1);
    const ok = await siteUser(h.db.pool, t, id);
    assert.equal(ok.sync_status, 'synced');
    assert.equal(ok.sync_error_message, null);
    assert.equal(ok.onec_id, (await onecRow(h.db.pool, t, String(id)))?.ref);
    assert.equal((await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters where stream = $1`, [exportName])).rows[0].n, 0);
  });

  it('a dead letter replayed once 1C accepts it reaches 1C, and its row is written back as synced', async () => {
    const id = await addUser(h.db.pool, t, { email: 'still-no-at-sign', phone: '+79990000005', first_name: 'Pavel', last_name: 'Later' });
    assert.equal((await h.run({ stream: exportName })).counts.failed, 1);
    assert.equal((await siteUser(h.db.pool, t, id)).sync_status, 'error');
    // 1C is changed to accept it (the check goes away); the kept record is replayed as it was.
    await h.db.pool.query(`alter table ${t.onec} drop constraint ${t.onec}_email_check`);
    const replay = await h.client.workflow.execute('replayDeadLetters', { workflowId: exportName, taskQueue: h.settings.taskQueue, args: [{ stream: exportName }] });
    assert.equal((replay as { counts: { created: number } }).counts.created, 1);
    const user = await siteUser(h.db.pool, t, id);
    assert.equal(user.sync_status, 'synced');
    assert.equal(user.sync_error_message, null);
    assert.equal(user.onec_id, (await onecRow(h.db.pool, t, String(id)))?.ref);
    const next = await h.run({ stream: exportName });
    assert.equal(next.counts.created + next.counts.updated, 0, 'the replayed record is linked: not exported again');
  });

  it("a source filter reads only the rows it matches (needs_1c_export and not created_in_1c)", async () => {
    const id = await addUser(h.db.pool, t, { email: 'new@example.com' });
    const summary = await h.run({ stream: h.name('flagged') });
    const { rows } = await h.db.pool.query(`select id from flagged_copy order by id`);
    assert.deepEqual(rows.map((r) => r.id), [id], 'only the one row still waiting for its export');
    assert.equal(summary.counts.created, 1);
  });

  it('old per-stream bindings of the pair become links on its first run, losing nothing', async () => {
    const { t: lt } = legacy;
    const id = await addUser(h.db.pool, lt, { email: 'old@example.com', phone: '+70000000000', first_name: 'Old', last_name: 'Timer' });
    const { rows } = await h.db.pool.query<{ ref: string }>(
      `insert into ${lt.onec} (platform_id, email, phone, first_name, last_name, role) values ($1, 'old@example.com', '+70000000000', 'Old', 'Timer', 'customer') returning ref::text as ref`,
      [String(id)],
    );
    const ref = (rows[0] as { ref: string }).ref;
    const values = { email: 'old@example.com', phone: '+70000000000', first_name: 'Old', last_name: 'Timer', role: 'customer' };
    const hash = versionOf(values, { fields: SIGNIFICANT });
    // What the two streams kept before the pair was linked: per-stream bindings, internal ids unserialized.
    await h.db.pool.query(
      `with old(stream, system, record_key, internal_id, version) as (
         values ($1, 'site', $2, $3, $4), ($5, '1c', $6, $7, $4), ('unpaired', 'crm', '["9"]', '9', 'v')),
       scopes as (
         insert into ferry_binding_scopes (stream, system) select distinct stream, system from old
         on conflict (stream, system) do update set stream = excluded.stream returning id, stream, system)
       insert into ferry_binding_keys (scope_id, record_key, internal_id, version, last_seen_run)
       select s.id, o.record_key, o.internal_id, o.version, 'old-run' from old o join scopes s using (stream, system)`,
      [legacy.exportName, JSON.stringify([String(id)]), ref, hash, legacy.importName, JSON.stringify([ref]), String(id)],
    );
    const exported = await h.run({ stream: legacy.exportName });
    assert.deepEqual(counts(exported), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 }, 'the binding became a link: known, unchanged');
    const imported = await h.run({ stream: legacy.importName });
    assert.deepEqual(counts(imported), { created: 0, updated: 0, skipped: 1, deleted: 0, failed: 0 });
    const links = (await h.db.pool.query(`select local_key, remote_key, local_version, remote_version from ferry_links where pair = $1`, [legacy.pair])).rows;
    assert.deepEqual(links, [{ local_key: JSON.stringify([String(id)]), remote_key: JSON.stringify([ref]), local_version: hash, remote_version: hash }]);
    const left = (await h.db.pool.query(`select stream from ferry_bindings where stream in ($1, $2, 'unpaired')`, [legacy.exportName, legacy.importName])).rows;
    assert.deepEqual(left, [{ stream: 'unpaired' }], "the pair's bindings moved; other streams' stay");
    assert.equal((await onecRow(h.db.pool, lt, String(id)))?.revisions, 0);
  });

  it('the narrow-bindings, links and binding-fillfactor migrations run on a store holding old bindings and keep them', async () => {
    const db = await createTestDatabase('links_migration');
    const state = createStateDb(db.url, 2);
    try {
      await migrateTo(state, '2026-11-30-001-run-links');
      await db.pool.query(`insert into ferry_bindings (stream, system, record_key, internal_id, version, last_seen_run) values ('s', 'crm', '["1"]', 'x', 'v', 'r')`);
      const { applied } = await migrateToLatest(state);
      assert.deepEqual(applied, ['2026-12-01-001-narrow-bindings', '2026-12-01-002-links', '2026-12-02-001-binding-fillfactor']);
      const options = await db.pool.query(`select reloptions from pg_class where relname = 'ferry_binding_keys'`);
      assert.deepEqual(options.rows, [{ reloptions: ['fillfactor=90'] }]);
      assert.deepEqual((await db.pool.query(`select stream, system, record_key, internal_id, version, last_seen_run from ferry_bindings`)).rows, [
        { stream: 's', system: 'crm', record_key: '["1"]', internal_id: 'x', version: 'v', last_seen_run: 'r' },
      ]);
      assert.equal((await db.pool.query(`select count(*)::int as n from ferry_links`)).rows[0].n, 0);
      assert.equal((await db.pool.query(`select count(*)::int as n from ferry_conflicts`)).rows[0].n, 0);
    } finally {
      await state.destroy();
      await db.drop();
    }
  });
});

describe('linked pair configuration', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/unused';
  const tables = { users: 'users', onec: 'onec' };
  const registry = async (streams: StreamDefinition[]) => new StreamRegistry(streams);

  it('a stream of a linked pair needs a hash of significant fields as its version', async () => {
    const { exportStream, importStream } = pairStreams('p', url, tables, { conflicts: 'source-wins' });
    const byTimestamp = defineStream({ ...exportOptionsOf(exportStream), version: 'updated_at' });
    await assert.rejects(registry([byTimestamp, importStream]), /stream "p.export": field "version": a stream of linked pair "p" needs a hash of its significant fields/);
  });

  it('a write-back may not touch a significant field', async () => {
    const { exportStream, importStream } = pairStreams('p', url, tables, { conflicts: 'source-wins' });
    const bad = defineStream({ ...exportOptionsOf(exportStream), writeBack: { onSuccess: { phone: null } } });
    await assert.rejects(registry([bad, importStream]), /field "writeBack": phone is among the stream's significant fields/);
  });

  it('the policy is declared once per pair, and only on a pair', async () => {
    const { exportStream, importStream } = pairStreams('p', url, tables, { conflicts: 'source-wins' });
    const twice = defineStream({ ...exportOptionsOf(exportStream), conflicts: 'target-wins' });
    await assert.rejects(registry([twice, importStream]), /pair "p": both "p.export" and "p.import" declare conflicts/);
    const { pair: _p, direction: _d, ...solo } = { ...exportOptionsOf(exportStream), conflicts: 'target-wins' as const, writeBack: undefined };
    assert.ok(_p && _d);
    await assert.rejects(registry([defineStream(solo)]), /field "conflicts": applies to a stream of a pair/);
    assert.throws(() => defineStream({ ...exportOptionsOf(exportStream), conflicts: 'newest-wins' as never }), /field "conflicts": must be 'source-wins', 'target-wins'/);
  });

  it('a source filter is an expression, not a statement', () => {
    assert.throws(() => postgresSource({ url, table: 'users', system: 'site', where: 'true; drop table users' }), /field "where": .* is not a plain boolean expression/);
    assert.throws(() => postgresSource({ url, table: 'users', system: 'site', where: 'true -- comment' }), /not a plain boolean expression/);
  });
});

/** The options a stream was declared with, to declare a variant (test only: the resolved stream keeps them). */
function exportOptionsOf(definition: ReturnType<typeof pairStreams>['exportStream']) {
  const r = definition.resolved;
  return {
    name: r.name,
    pair: r.pair?.name as string,
    direction: r.pair?.direction as 'export',
    source: r.source,
    schema: r.schema,
    map: r.map,
    target: r.target,
    key: [...r.shape.key],
    version: { fields: SIGNIFICANT } as string | { fields: readonly string[] },
    writeBack: r.writeBack,
  };
}

describe('an HTTP source reads records by key (readOne), for the conflict check', () => {
  it('GETs each key, leaves out a 404, and declares read() only with readOne', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const m = /^\/customers\/([^/?]+)$/.exec(req.url ?? '');
      if (!m || m[1] === 'gone') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: { Ref_Key: m[1], email: `${m[1]}@example.com` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { httpSource } = await import('../src/connectors/http/source.js');
      const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const plain = httpSource({ baseUrl, path: '/customers', system: '1c' });
      assert.equal(plain.read, undefined);
      const source = httpSource({ baseUrl, path: '/customers', system: '1c', readOne: { path: ([ref]) => `/customers/${encodeURIComponent(ref ?? '')}`, record: 'value' } });
      const rows = await source.read?.({ stream: 's', key: ['Ref_Key'] }, [['a'], ['gone'], ['b']]);
      assert.deepEqual(rows?.map((r) => r.Ref_Key).sort(), ['a', 'b']);
      assert.deepEqual(seen.sort(), ['/customers/a', '/customers/b', '/customers/gone']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
