import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { acknowledge, applyReply, collect, exchangeRounds, httpPost, send, type PeripheralEndpoint } from '../src/exchange/peripheral.js';
import { conflictLog, contents, createExchangeWorld, fieldPlan, pendingChanges, startExchangeWorker, type ExchangeWorld } from './support/exchange.js';
import { createHarness, type Harness } from './support/harness.js';
import { seededRandom } from '../examples/support/seeded-random.js';

// A seeded generator of inserts, updates, soft deletes and exchanges on three
// nodes, with lost replies, lost requests, duplicated and re-sent packets,
// exchanges cut after one round, and a desktop offline for many rounds. After
// a final round of exchanges every database must hold the same rows, every
// queue must be empty, and every conflict the generator provoked must be in a
// conflict log. The generator calls the protocol steps directly, for speed; the final
// rounds run through the real exchange workflow. Replay a failure with FERRY_EXCHANGE_SEED=<seed>.

// A fixed default seed keeps CI deterministic; FERRY_EXCHANGE_SEED=random (or a number) explores.
// Seed 1630849015 once failed: the oracle took soft-deleting a row already deleted for an edit
// (the rule is pinned in exchange-conflicts.test.ts: 'an update that changes nothing ...').
const SEED_ENV = process.env.FERRY_EXCHANGE_SEED;
const SEED = SEED_ENV === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_ENV ?? 47035050);
const ROUNDS = Number(process.env.FERRY_EXCHANGE_ROUNDS ?? 40);


describe(`exchange, randomised (seed ${SEED})`, () => {
  let world: ExchangeWorld;
  let harness: Harness;
  let workers: Awaited<ReturnType<typeof startExchangeWorker>>;
  before(async () => {
    harness = await createHarness('xrandom');
    world = await createExchangeWorld('xrandom', { plan: fieldPlan({ packetSize: 7 }) });
    workers = await startExchangeWorker(harness, world);
  });
  after(async () => {
    await workers?.stop();
    await world?.close();
    await harness?.close();
  });

  it('converges, with every provoked conflict logged', async (t) => {
    const rnd = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const chance = (p: number) => rnd() < p;
    const uuid = () => {
      const h = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    };
    let counter = 0;
    const fresh = () => `v${++counter}`;

    const central = world.central.pool;
    const [desk1, desk2] = world.desks as [(typeof world.desks)[0], (typeof world.desks)[0]];
    const nodes: { name: string; pool: pg.Pool }[] = [{ name: 'central', pool: central }, ...world.desks.map((d) => ({ name: d.code, pool: d.db.pool }))];

    // Bookkeeping for the conflict check: edits since each desk's last exchange, on the desk and on the central node.
    const deskEdits = new Map<string, Set<string>>(world.desks.map((d) => [d.code, new Set()]));
    const centralEditsFor = new Map<string, Set<string>>(world.desks.map((d) => [d.code, new Set()]));
    const deskClean = new Map<string, boolean>(world.desks.map((d) => [d.code, true]));
    const expected = new Set<string>();
    const stats = { ops: 0, full: 0, lostReply: 0, lostRequest: 0, duplicate: 0, oneRound: 0, offline: 0 };

    const rows = async (pool: pg.Pool, table: string): Promise<string[]> => (await pool.query<{ uuid: string }>(`select uuid::text from ${table} order by uuid`)).rows.map((r) => r.uuid);
    const noteEdit = (node: string, entity: string) => {
      if (node === 'central') for (const s of centralEditsFor.values()) s.add(entity);
      else deskEdits.get(node)!.add(entity);
    };
    // An UPDATE that leaves its row as it was (soft-deleting a row already deleted, say) registers
    // no change: it is no edit, and cannot conflict (docs/exchange.md, Conflicts). So each update
    // that could leave its row as it was matches only a row it changes, and is noted as an edit
    // only when it matched one.
    const updated = async (pool: pg.Pool, sql: string, params: unknown[]): Promise<boolean> => ((await pool.query(sql, params)).rowCount ?? 0) > 0;

    async function randomOp(node: { name: string; pool: pg.Pool }): Promise<void> {
      const { pool } = node;
      const kind = rnd();
      stats.ops += 1;
      if (kind < 0.2) {
        const table = pick(['estimates', 'works', 'daily_reports']);
        const id = uuid();
        if (table === 'estimates') await pool.query('insert into estimates (uuid, title, amount) values ($1, $2, $3)', [id, fresh(), (rnd() * 1e6).toFixed(2)]);
        else if (table === 'works') await pool.query('insert into works (uuid, name, unit, price) values ($1, $2, $3, $4)', [id, fresh(), pick(['m', 'm2', 'h']), (rnd() * 100).toFixed(3)]);
        else {
          await pool.query('insert into daily_reports (uuid, report_date, brigade, hours) values ($1, current_date, $2, $3)', [id, fresh(), (rnd() * 12).toFixed(2)]);
          const n = Math.floor(rnd() * 3);
          for (let i = 0; i < n; i++) await pool.query('insert into daily_report_lines (uuid, report_uuid, work, quantity) values ($1, $2, $3, $4)', [uuid(), id, fresh(), (rnd() * 10).toFixed(3)]);
        }
        return;
      }
      const table = pick(['estimates', 'works', 'daily_reports', 'daily_report_lines']);
      const existing = await rows(pool, table);
      if (!existing.length) return;
      const target = pick(existing);
      if (table === 'daily_report_lines') {
        const parent = (await pool.query<{ report_uuid: string }>('select report_uuid::text from daily_report_lines where uuid = $1', [target])).rows[0]!.report_uuid;
        let edited = true;
        if (chance(0.2)) edited = await updated(pool, 'update daily_report_lines set is_deleted = true where uuid = $1 and not is_deleted', [target]);
        else if (chance(0.3)) await pool.query('insert into daily_report_lines (uuid, report_uuid, work, quantity) values ($1, $2, $3, 1)', [uuid(), parent, fresh()]);
        else edited = await updated(pool, 'update daily_report_lines set quantity = $2 where uuid = $1 and quantity is distinct from $2::numeric', [target, (rnd() * 10).toFixed(3)]);
        if (edited) noteEdit(node.name, parent);
        return;
      }
      // fresh() values differ from every stored one: only a soft delete can leave its row as it was
      let edited = true;
      if (chance(0.12)) edited = await updated(pool, `update ${table} set is_deleted = true where uuid = $1 and not is_deleted`, [target]);
      else if (table === 'estimates') await pool.query(`update estimates set ${pick(['title', 'status'])} = $2 where uuid = $1`, [target, fresh()]);
      else if (table === 'works') await pool.query(`update works set ${pick(['name', 'unit'])} = $2 where uuid = $1`, [target, fresh()]);
      else await pool.query(`update daily_reports set ${pick(['note', 'brigade'])} = $2 where uuid = $1`, [target, fresh()]);
      if (edited) noteEdit(node.name, target);
    }

    const losing = (e: PeripheralEndpoint, when: 'before' | 'after'): PeripheralEndpoint => ({
      ...e,
      post: async (url, token, body) => {
        if (when === 'after') await httpPost(url, token, body);
        throw new Error(`connection lost ${when} the central node got the packet`);
      },
    });

    async function exchangeOf(desk: (typeof world.desks)[0]): Promise<void> {
      const e = desk.endpoint;
      const mode = rnd();
      const wasClean = deskClean.get(desk.code)!;
      let full = false;
      if (mode < 0.5) {
        await exchangeRounds(e);
        full = true;
        stats.full += 1;
        if (wasClean) for (const x of deskEdits.get(desk.code)!) if (centralEditsFor.get(desk.code)!.has(x)) expected.add(x);
      } else if (mode < 0.62) {
        const c = await collect(e);
        await assert.rejects(send(losing(e, 'after'), c.packetNo));
        stats.lostReply += 1;
      } else if (mode < 0.72) {
        const c = await collect(e);
        await assert.rejects(send(losing(e, 'before'), c.packetNo));
        stats.lostRequest += 1;
      } else if (mode < 0.84) {
        const c = await collect(e);
        await send(e, c.packetNo);
        const again = await send(e, c.packetNo); // the same packet twice: acknowledged, not applied again
        await acknowledge(e, again.ack);
        await applyReply(e, again.replyPacketNo);
        stats.duplicate += 1;
      } else {
        const c = await collect(e);
        const s = await send(e, c.packetNo);
        await acknowledge(e, s.ack);
        await applyReply(e, s.replyPacketNo);
        stats.oneRound += 1;
      }
      // Conflicts are only predicted across two full exchanges (the queues were empty before the edits).
      deskClean.set(desk.code, full);
      deskEdits.get(desk.code)!.clear();
      centralEditsFor.get(desk.code)!.clear();
    }

    /** The same entity edited on a desktop and on the central node before their next exchange: a conflict. */
    async function provokeConflict(desk: (typeof world.desks)[0]): Promise<void> {
      const table = pick(['estimates', 'works', 'daily_reports']);
      const onDesk = new Set(await rows(desk.db.pool, table));
      const both = (await rows(central, table)).filter((x) => onDesk.has(x));
      if (!both.length) return;
      const target = pick(both);
      const column = table === 'estimates' ? 'title' : table === 'works' ? 'unit' : 'note';
      for (const [name, pool] of [[desk.code, desk.db.pool], ['central', central]] as const) {
        let edited = true;
        if (chance(0.15)) edited = await updated(pool, `update ${table} set is_deleted = true where uuid = $1 and not is_deleted`, [target]);
        else await pool.query(`update ${table} set ${column} = $2 where uuid = $1`, [target, fresh()]);
        if (edited) noteEdit(name, target);
      }
    }

    const offline = { from: Math.floor(ROUNDS * 0.2), to: Math.floor(ROUNDS * 0.75) };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const node of nodes) {
          const n = Math.floor(rnd() * 4);
          for (let i = 0; i < n; i++) await randomOp(node);
        }
        if (chance(0.4)) await provokeConflict(pick(world.desks));
        for (const desk of world.desks) {
          if (desk === desk2 && round >= offline.from && round < offline.to) {
            stats.offline += 1;
            continue;
          }
          await exchangeOf(desk);
        }
      }
      // The final rounds through the real workflow (the rounds above call its steps directly, for speed).
      for (const desk of [desk1, desk2, desk1, desk2]) {
        const summary = await workers.exchange(desk.code);
        assert.equal(summary.status, 'succeeded', summary.message);
      }

      const [c, ...others] = await Promise.all(nodes.map((n) => contents(n.pool)));
      for (const [i, o] of others.entries()) assert.deepEqual(o, c, `${nodes[i + 1]!.name} differs from central`);
      for (const n of nodes) assert.equal(await pendingChanges(n.pool), 0, `${n.name} still has pending changes`);
      const logged = new Set<string>();
      for (const n of nodes) for (const x of await conflictLog(n.pool)) logged.add(x.entity_uuid);
      const missing = [...expected].filter((x) => !logged.has(x));
      assert.deepEqual(missing, [], 'provoked conflicts missing from the conflict logs');
      const totals = Object.fromEntries(await Promise.all(['estimates', 'works', 'daily_reports', 'daily_report_lines'].map(async (tb) => [tb, (await rows(central, tb)).length])));
      t.diagnostic(`seed ${SEED}: ${JSON.stringify({ ...stats, rows: totals, expectedConflicts: expected.size, loggedConflicts: logged.size })}`);
      assert.ok(stats.ops > ROUNDS, 'the generator did something');
    } catch (err) {
      console.error(`exchange randomised test failed with seed ${SEED}: replay with FERRY_EXCHANGE_SEED=${SEED}`);
      throw err;
    }
  });
});
