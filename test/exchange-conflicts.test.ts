import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConflictContext } from '../src/exchange/policies.js';
import { exchangeRounds } from '../src/exchange/peripheral.js';
import { conflictLog, contents, createExchangeWorld, fieldPlan, insertEstimate, insertReport, insertWork, newUuid, pendingChanges, type ExchangeWorld } from './support/exchange.js';

// Each conflict policy, between a desktop and the central node, both having
// changed the same uuid since their last exchange. Policies of the test plan:
// DailyReport central-wins, Estimate last-writer-wins, Work merge.

async function syncAll(world: ExchangeWorld): Promise<void> {
  for (const d of [...world.desks, ...world.desks]) await exchangeRounds(d.endpoint);
  const [central, ...others] = await Promise.all(world.all().map((d) => contents(d.pool)));
  for (const [i, other] of others.entries()) assert.deepEqual(other, central, `desk${i + 1} differs from central`);
}

async function newConflicts(world: ExchangeWorld, seen: number) {
  const all = [];
  for (const d of world.all()) all.push(...(await conflictLog(d.pool)));
  return all.slice(seen);
}

async function allConflicts(world: ExchangeWorld): Promise<number> {
  let n = 0;
  for (const d of world.all()) n += (await conflictLog(d.pool)).length;
  return n;
}

async function value<T>(world: ExchangeWorld, sql: string, params: unknown[]): Promise<T[]> {
  const out: T[] = [];
  for (const d of world.all()) out.push(Object.values((await d.pool.query(sql, params)).rows[0] ?? {})[0] as T);
  return out;
}

describe('exchange conflicts', () => {
  let world: ExchangeWorld;
  before(async () => {
    world = await createExchangeWorld('xconflict');
  });
  after(async () => world?.close());

  it('central-wins: the central version stays everywhere, lines added on either side are kept, and the conflict is logged', async () => {
    const desk1 = world.desks[0]!;
    const line = newUuid();
    const report = await insertReport(world.central.pool, { brigade: 'north', note: 'first', lines: [{ uuid: line, work: 'digging', quantity: '1' }] });
    await syncAll(world);
    const seen = await allConflicts(world);
    await world.central.pool.query(`update daily_reports set note = 'central says' where uuid = $1`, [report]);
    await desk1.db.pool.query(`update daily_reports set note = 'desk says', hours = 8 where uuid = $1`, [report]);
    const deskLine = newUuid();
    await desk1.db.pool.query(`insert into daily_report_lines (uuid, report_uuid, work, quantity) values ($1, $2, 'paving', 2)`, [deskLine, report]);
    await syncAll(world);
    assert.deepEqual(await value(world, 'select note from daily_reports where uuid = $1', [report]), ['central says', 'central says', 'central says']);
    assert.deepEqual(await value(world, 'select hours::text from daily_reports where uuid = $1', [report]), [null, null, null], 'the whole central version wins');
    assert.deepEqual(await value(world, 'select count(*)::int from daily_report_lines where report_uuid = $1', [report]), [2, 2, 2], 'the line desk1 added is kept');
    const logged = await newConflicts(world, seen);
    assert.equal(logged.length, 1);
    const c = logged[0]!;
    assert.equal(c.entity_uuid, report);
    assert.equal(c.policy, 'central-wins');
    assert.equal(c.winner, 'central + lines', 'the central columns, with the line desk1 added');
    assert.equal(c.kind, 'edit-edit');
    assert.equal(c.local_version.note, 'central says');
    assert.equal(c.incoming_version.note, 'desk says');
    assert.equal(c.result.note, 'central says');
  });

  it('last-writer-wins by updated_at, a tie going to the central node', async () => {
    const desk1 = world.desks[0]!;
    const [a, b, tie] = [await insertEstimate(world.central.pool, { title: 'a', amount: '1.00' }), await insertEstimate(world.central.pool, { title: 'b', amount: '1.00' }), await insertEstimate(world.central.pool, { title: 'tie', amount: '1.00' })];
    await syncAll(world);
    const seen = await allConflicts(world);
    const set = `update estimates set amount = $2, updated_at = $3 where uuid = $1`;
    await world.central.pool.query(set, [a, '2.00', '2026-01-01T10:00:00.000001Z']);
    await desk1.db.pool.query(set, [a, '3.00', '2026-01-01T10:00:00.000002Z']); // desk1 later by a microsecond: desk1 wins
    await world.central.pool.query(set, [b, '4.00', '2026-01-01T11:00:00Z']);
    await desk1.db.pool.query(set, [b, '5.00', '2026-01-01T10:59:59.5Z']); // central later: central wins
    await world.central.pool.query(set, [tie, '6.00', '2026-01-01T12:00:00Z']);
    await desk1.db.pool.query(set, [tie, '7.00', '2026-01-01T12:00:00Z']); // a tie: central wins
    await syncAll(world);
    assert.deepEqual(await value(world, 'select amount::text from estimates where uuid = $1', [a]), ['3.00', '3.00', '3.00']);
    assert.deepEqual(await value(world, 'select amount::text from estimates where uuid = $1', [b]), ['4.00', '4.00', '4.00']);
    assert.deepEqual(await value(world, 'select amount::text from estimates where uuid = $1', [tie]), ['6.00', '6.00', '6.00']);
    const logged = await newConflicts(world, seen);
    const winners = Object.fromEntries(logged.map((c) => [c.entity_uuid, c.winner]));
    assert.deepEqual(winners, { [a]: 'peripheral', [b]: 'central', [tie]: 'central' });
    assert.ok(logged.every((c) => c.policy === 'last-writer-wins'));
  });

  it('merge keeps columns changed on one side only; a column changed on both goes to the fallback (central)', async () => {
    const desk1 = world.desks[0]!;
    const w = await insertWork(world.central.pool, { name: 'plaster', unit: 'm2', price: '10.5' });
    await syncAll(world);
    const seen = await allConflicts(world);
    await world.central.pool.query(`update works set unit = 'm3', name = 'plaster (central)' where uuid = $1`, [w]);
    await desk1.db.pool.query(`update works set price = 12.75, name = 'plaster (desk)' where uuid = $1`, [w]);
    await syncAll(world);
    const rows = await value<Record<string, string>>(world, 'select jsonb_build_object($2::text, name, $3::text, unit, $4::text, price::text) from works where uuid = $1', [w, 'name', 'unit', 'price']);
    for (const r of rows) assert.deepEqual(r, { name: 'plaster (central)', unit: 'm3', price: '12.75' });
    const logged = await newConflicts(world, seen);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.winner, 'merged');
    assert.equal(logged[0]!.policy, 'merge (fallback central-wins)');
  });

  it('a deletion against an edit is a conflict: decided by the policy and logged, never a silent resurrection', async () => {
    const desk1 = world.desks[0]!;
    const desk2 = world.desks[1]!;
    const report = await insertReport(world.central.pool, { brigade: 'south' });
    const estimate = await insertEstimate(world.central.pool, { title: 'to delete', amount: '1.00' });
    await syncAll(world);
    const seen = await allConflicts(world);
    // central-wins: desk1 deletes, the central node edits -> the edit stands, logged as delete-edit
    await desk1.db.pool.query('update daily_reports set is_deleted = true where uuid = $1', [report]);
    await world.central.pool.query(`update daily_reports set note = 'still needed' where uuid = $1`, [report]);
    // last-writer-wins: desk2 edits, then desk1 deletes later -> deleted everywhere
    await desk2.db.pool.query(`update estimates set title = 'edited', updated_at = '2026-02-01T00:00:00Z' where uuid = $1`, [estimate]);
    await desk1.db.pool.query(`update estimates set is_deleted = true, updated_at = '2026-02-02T00:00:00Z' where uuid = $1`, [estimate]);
    await exchangeRounds(desk2.endpoint); // the edit reaches the central node first
    await syncAll(world);
    assert.deepEqual(await value(world, 'select is_deleted from daily_reports where uuid = $1', [report]), [false, false, false]);
    assert.deepEqual(await value(world, 'select note from daily_reports where uuid = $1', [report]), ['still needed', 'still needed', 'still needed']);
    assert.deepEqual(await value(world, 'select is_deleted from estimates where uuid = $1', [estimate]), [true, true, true]);
    const logged = await newConflicts(world, seen);
    const byUuid = new Map(logged.map((c) => [c.entity_uuid, c]));
    assert.equal(byUuid.get(report)?.kind, 'delete-edit');
    assert.equal(byUuid.get(report)?.winner, 'central');
    assert.equal(byUuid.get(estimate)?.kind, 'delete-edit');
    assert.equal(byUuid.get(estimate)?.winner, 'peripheral');
    assert.equal(byUuid.get(estimate)?.result.is_deleted, true);
  });

  it('an update that changes nothing is no edit: soft-deleting a row already deleted does not conflict with an edit', async () => {
    // Seed 1630849015 of the randomised test: a Work deleted and exchanged everywhere; a desktop
    // deletes it again while the central node edits the deleted row. The desktop's row is as it
    // was, so nothing is registered there and the central edit simply arrives.
    const desk1 = world.desks[0]!;
    const work = await insertWork(world.central.pool, { name: 'scaffold', unit: 'h', price: '63.042' });
    const report = await insertReport(world.central.pool, { brigade: 'east', lines: [{ work: 'sweeping', quantity: '1' }] });
    await world.central.pool.query('update works set is_deleted = true where uuid = $1', [work]);
    await world.central.pool.query('update daily_report_lines set is_deleted = true where report_uuid = $1', [report]);
    await syncAll(world);
    const seen = await allConflicts(world);
    const deskBefore = await contents(desk1.db.pool);
    const again = await desk1.db.pool.query('update works set is_deleted = true where uuid = $1', [work]);
    const lineAgain = await desk1.db.pool.query('update daily_report_lines set is_deleted = true where report_uuid = $1', [report]);
    assert.equal(again.rowCount, 1, 'the update matched the row');
    assert.equal(lineAgain.rowCount, 1, 'the update matched the line');
    assert.deepEqual(await contents(desk1.db.pool), deskBefore, 'and left every row as it was (updated_at too)');
    assert.equal(await pendingChanges(desk1.db.pool), 0, 'so nothing is registered for the central node');
    await world.central.pool.query(`update works set name = 'scaffold (central)', unit = 'day' where uuid = $1`, [work]);
    await world.central.pool.query(`update daily_reports set note = 'central note' where uuid = $1`, [report]);
    await syncAll(world);
    assert.deepEqual(await value(world, 'select unit from works where uuid = $1', [work]), ['day', 'day', 'day']);
    assert.deepEqual(await value(world, 'select is_deleted from works where uuid = $1', [work]), [true, true, true]);
    assert.deepEqual(await value(world, 'select note from daily_reports where uuid = $1', [report]), ['central note', 'central note', 'central note']);
    assert.deepEqual(await newConflicts(world, seen), [], 'no conflict: only the central node changed them');

    // The same deletion on a live row is a change, and against an edit a delete-edit conflict.
    const live = await insertWork(world.central.pool, { name: 'ladder', unit: 'h', price: '1' });
    await syncAll(world);
    const seenLive = await allConflicts(world);
    await desk1.db.pool.query('update works set is_deleted = true where uuid = $1', [live]);
    await world.central.pool.query(`update works set unit = 'day' where uuid = $1`, [live]);
    await syncAll(world);
    const logged = await newConflicts(world, seenLive);
    assert.deepEqual(
      logged.map((c) => [c.entity_uuid, c.kind]),
      [[live, 'delete-edit']],
    );
  });
});

describe('exchange conflicts: a custom resolver', () => {
  let world: ExchangeWorld;
  const seenByResolver: ConflictContext[] = [];
  before(async () => {
    world = await createExchangeWorld('xcustom', {
      desks: 1,
      plan: fieldPlan({}, {
        // the larger amount wins, the title is the central one; lossless numbers compared as text of equal scale
        Estimate: (c) => {
          seenByResolver.push(c);
          const central = c.central === 'local' ? c.local : c.incoming;
          const larger = Number(String(c.local.amount)) >= Number(String(c.incoming.amount)) ? c.local : c.incoming;
          return { ...central, amount: larger.amount, updated_at: larger.updated_at };
        },
      }),
    });
  });
  after(async () => world?.close());

  it('decides with the function given, logging its result as merged', async () => {
    const desk1 = world.desks[0]!;
    const e = await insertEstimate(world.central.pool, { title: 'custom', amount: '10.00' });
    await exchangeRounds(desk1.endpoint);
    await world.central.pool.query(`update estimates set title = 'central title', amount = 11 where uuid = $1`, [e]);
    await desk1.db.pool.query(`update estimates set title = 'desk title', amount = 99999999999999.99 where uuid = $1`, [e]);
    await exchangeRounds(desk1.endpoint);
    await exchangeRounds(desk1.endpoint);
    assert.deepEqual(await contents(desk1.db.pool), await contents(world.central.pool));
    const row = (await world.central.pool.query<{ title: string; amount: string }>('select title, amount::text from estimates where uuid = $1', [e])).rows[0]!;
    assert.deepEqual(row, { title: 'central title', amount: '99999999999999.99' }, 'the numeric kept every digit');
    assert.equal(seenByResolver.length, 1);
    assert.equal(seenByResolver[0]!.central, 'local');
    const logged = await conflictLog(world.central.pool);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.winner, 'merged');
    assert.equal(logged[0]!.policy, 'custom');
  });
});
