// Linked pairs (issue #9), conflicts: the same customer edited on both sides
// since the last sync, resolved by each policy — source-wins ("1C wins"),
// target-wins, last-writer-wins, field-level merge, a custom function — with
// real workflows on a real Temporal dev server; found by the import run or by
// the export run; every conflict in the log and in `ferry conflicts list`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConflictPolicy } from '../src/links/policies.js';
import { resolveConflict } from '../src/links/policies.js';
import { runCli } from './support/cli.js';
import { createHarness, type Harness } from './support/harness.js';
import { addUser, createPairTables, onecCustomer, pairStreams, siteCustomer, type Customer, type PairTables } from './support/links-pair.js';

interface PairUnderTest {
  pair: string;
  tables: PairTables;
  exportName: string;
  importName: string;
}

const ORIGINAL: Customer = { email: 'maria@example.com', phone: '+79991112233', first_name: 'Maria', last_name: 'Ivanova', role: 'customer' };

describe('linked pair conflicts, one policy each', () => {
  let h: Harness;
  const pairs = new Map<string, PairUnderTest>();
  const policies: Record<string, ConflictPolicy> = {
    onecWins: 'source-wins',
    siteWins: 'target-wins',
    newest: { lastWriterWins: { source: 'updated_at', target: 'updated_at' } },
    merge: { merge: 'source-wins' },
    custom: function emailFrom1c(c) {
      return { ...c.current, email: c.incoming.email };
    },
    exportFinds: 'source-wins',
  };

  before(async () => {
    h = await createHarness('links_conflicts');
    const streams = [];
    for (const [label, policy] of Object.entries(policies)) {
      const tables = await createPairTables(h.db.pool, label.toLowerCase());
      const pair = h.name(label);
      const { exportStream, importStream } = pairStreams(pair, h.db.url, tables, { conflicts: policy });
      pairs.set(label, { pair, tables, exportName: exportStream.resolved.name, importName: importStream.resolved.name });
      streams.push(exportStream, importStream);
    }
    await h.startWorker(streams);
  });
  after(() => h.close());

  const the = (label: string) => pairs.get(label) as PairUnderTest;

  /** A customer registered on the site, exported, and the export's echo skipped by the import. */
  async function synced(p: PairUnderTest, customer: Customer = ORIGINAL): Promise<number> {
    const id = await addUser(h.db.pool, p.tables, customer);
    assert.equal((await h.run({ stream: p.exportName })).counts.created, 1);
    const echo = await h.run({ stream: p.importName });
    assert.equal(echo.counts.created + echo.counts.updated, 0, 'the export is not imported back');
    return id;
  }

  const editSite = (p: PairUnderTest, id: number) =>
    h.db.pool.query(`update ${p.tables.users} set phone = '+70000000001', last_name = 'Sokolova' where id = $1`, [id]);
  const edit1c = (p: PairUnderTest, id: number) =>
    h.db.pool.query(`update ${p.tables.onec} set email = 'm.ivanova@corp.example', phone = '+70000000002' where platform_id = $1`, [String(id)]);

  /** import, export, import: the order `ferry run <pair> --direction both` takes, then once more to show it settled. */
  async function syncBothWays(p: PairUnderTest): Promise<void> {
    await h.run({ stream: p.importName });
    await h.run({ stream: p.exportName });
    const settled = await h.run({ stream: p.importName });
    assert.equal(settled.counts.created + settled.counts.updated, 0, 'nothing echoes after the conflict');
    const quiet = await h.run({ stream: p.exportName });
    assert.equal(quiet.counts.created + quiet.counts.updated, 0, 'nothing echoes after the conflict');
  }

  async function bothSides(p: PairUnderTest, id: number): Promise<Customer> {
    const site = await siteCustomer(h.db.pool, p.tables, id);
    assert.deepEqual(await onecCustomer(h.db.pool, p.tables, String(id)), site, 'both sides agree');
    return site;
  }

  const conflictLog = async (p: PairUnderTest) =>
    (await h.db.pool.query(`select stream, policy, winner, reason, incoming, current, base, result from ferry_conflicts where pair = $1 order by id`, [p.pair])).rows;

  const fromOnec = { ...ORIGINAL, email: 'm.ivanova@corp.example', phone: '+70000000002' };
  const fromSite = { ...ORIGINAL, phone: '+70000000001', last_name: 'Sokolova' };

  it("source-wins on the import stream: 1C's version wins the whole record", async () => {
    const p = the('onecWins');
    const id = await synced(p);
    await editSite(p, id);
    await edit1c(p, id);
    await syncBothWays(p);
    assert.deepEqual(await bothSides(p, id), fromOnec);
    const log = await conflictLog(p);
    assert.equal(log.length, 1);
    assert.equal(log[0].stream, p.importName);
    assert.equal(log[0].policy, 'source-wins');
    assert.equal(log[0].winner, 'incoming (1c)');
    assert.equal(log[0].incoming.email, 'm.ivanova@corp.example');
    assert.equal(log[0].current.last_name, 'Sokolova');
    assert.equal(log[0].base.phone, ORIGINAL.phone);
  });

  it("target-wins: the site's version wins, and goes to 1C", async () => {
    const p = the('siteWins');
    const id = await synced(p);
    await editSite(p, id);
    await edit1c(p, id);
    await syncBothWays(p);
    assert.deepEqual(await bothSides(p, id), fromSite);
    const log = await conflictLog(p);
    assert.equal(log.length, 1);
    assert.equal(log[0].winner, 'current (site)');
    assert.deepEqual(log[0].result, { email: ORIGINAL.email, phone: '+70000000001', first_name: 'Maria', last_name: 'Sokolova', role: 'customer' });
  });

  it('last-writer-wins by updated_at: the later edit wins, whichever side made it', async () => {
    const p = the('newest');
    const a = await synced(p, ORIGINAL);
    const b = await synced(p, { ...ORIGINAL, email: 'second@example.com' });
    await editSite(p, a);
    await edit1c(p, a); // 1C edits customer a last
    await edit1c(p, b);
    await editSite(p, b); // the site edits customer b last
    await syncBothWays(p);
    assert.deepEqual(await bothSides(p, a), fromOnec);
    assert.deepEqual(await bothSides(p, b), { ...fromSite, email: 'second@example.com' });
    const log = await conflictLog(p);
    assert.deepEqual(log.map((c) => c.winner).sort(), ['current (site)', 'incoming (1c)']);
    for (const c of log) assert.match(c.reason, /last-writer-wins/);
  });

  it('field merge: a field changed on one side comes from that side; a field changed on both goes to the fallback (1C)', async () => {
    const p = the('merge');
    const id = await synced(p);
    await editSite(p, id); // phone, last_name
    await edit1c(p, id); // email, phone
    await syncBothWays(p);
    // email: 1C only; last_name: site only; phone: both -> source-wins (1C)
    assert.deepEqual(await bothSides(p, id), { ...ORIGINAL, email: 'm.ivanova@corp.example', phone: '+70000000002', last_name: 'Sokolova' });
    const log = await conflictLog(p);
    assert.equal(log.length, 1);
    assert.equal(log[0].policy, 'field-merge(source-wins)');
    assert.equal(log[0].winner, 'merged (both)');
    assert.match(log[0].reason, /from the incoming change email; kept current last_name; changed on both sides: phone/);
  });

  it('a custom function decides (here: the email from 1C, the rest from the site)', async () => {
    const p = the('custom');
    const id = await synced(p);
    await editSite(p, id);
    await edit1c(p, id);
    await syncBothWays(p);
    assert.deepEqual(await bothSides(p, id), { ...fromSite, email: 'm.ivanova@corp.example' });
    const log = await conflictLog(p);
    assert.equal(log.length, 1);
    assert.equal(log[0].policy, 'custom:emailFrom1c');
  });

  it('found by the export run: the policy still means what it says on the import stream (1C wins)', async () => {
    const p = the('exportFinds');
    const id = await synced(p);
    await editSite(p, id);
    await edit1c(p, id);
    const exported = await h.run({ stream: p.exportName });
    assert.equal(exported.counts.updated, 0, '1C wins: the export writes nothing to 1C');
    await h.run({ stream: p.importName });
    await h.run({ stream: p.exportName });
    assert.deepEqual(await bothSides(p, id), fromOnec);
    const log = await conflictLog(p);
    assert.equal(log.length, 1);
    assert.equal(log[0].stream, p.exportName);
    assert.equal(log[0].winner, 'current (1c)');
  });

  it('ferry conflicts list --pair shows them', async () => {
    const p = the('merge');
    const out = await runCli(h, ['conflicts', 'list', '--pair', p.pair, '--json'], 'unused', { source: 'unused', target: 'unused' });
    assert.equal(out.code, 0, out.stderr);
    const rows = JSON.parse(out.stdout) as { pair: string; winner: string; policy: string }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.policy, 'field-merge(source-wins)');
    const text = await runCli(h, ['conflicts', 'list', '--pair', p.pair], 'unused', { source: 'unused', target: 'unused' });
    assert.match(text.stdout, /field merge: from the incoming change email/);
  });
});

describe('conflict policies on values', () => {
  const base = { email: 'a', phone: '1', name: 'x' };
  const input = { pair: 'p', stream: 's', base, incoming: { email: 'b', phone: '2', name: 'x' }, current: { email: 'a', phone: '3', name: 'y' }, declaringStream: true };
  it('merge with target-wins keeps the current value of a field both changed', () => {
    const r = resolveConflict({ merge: 'target-wins' }, input);
    assert.deepEqual(r.winner === 'merged' && r.values, { email: 'b', phone: '3', name: 'y' });
  });
  it("source-wins declared on the other stream means the current side wins", () => {
    assert.equal(resolveConflict('source-wins', { ...input, declaringStream: false }).winner, 'current');
  });
  it('last-writer-wins without a time keeps the current value and says why', () => {
    const r = resolveConflict({ lastWriterWins: { source: 'u', target: 'u' } }, { ...input, incomingTime: undefined, currentTime: '2026-01-01T00:00:00Z' });
    assert.equal(r.winner, 'current');
    assert.match(r.reason, /timestamp is missing/);
  });
});
