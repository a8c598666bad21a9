import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, exchangeRounds, httpPost, send } from '../src/exchange/peripheral.js';
import { ExchangeAuthError, ExchangeSchemaMismatchError } from '../src/exchange/errors.js';
import { EXCHANGE_PATH } from '../src/exchange/server.js';
import { contents, createExchangeWorld, fieldPlan, insertEstimate, insertReport, insertWork, pendingChanges, type ExchangeWorld } from './support/exchange.js';

// The handshake over real HTTP between three real databases, without Temporal
// (exchange-workflow.test.ts runs the same steps as workflow activities).

async function centralRow(world: ExchangeWorld, code: string) {
  return (await world.central.pool.query<{ received_packet_no: string; sent_packet_no: string }>('select received_packet_no, sent_packet_no from ferry_exchange_nodes where code = $1', [code])).rows[0]!;
}

async function packetLog(world: ExchangeWorld, outcome: string): Promise<number> {
  return Number((await world.central.pool.query<{ n: string }>(`select count(*) as n from ferry_exchange_packets where direction = 'in' and outcome = $1`, [outcome])).rows[0]!.n);
}

async function rawPost(world: ExchangeWorld, body: string, authorization?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${world.server.url}${EXCHANGE_PATH}`, { method: 'POST', headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.text() };
}

/** Counts writes to the central node's estimates, to prove a packet is not applied twice. */
async function countWrites(world: ExchangeWorld): Promise<() => Promise<number>> {
  await world.central.pool.query(`
    create table if not exists write_count (n int not null); insert into write_count select 0 where not exists (select 1 from write_count);
    create or replace function count_write() returns trigger language plpgsql as $$ begin update write_count set n = n + 1; return null; end $$;
    drop trigger if exists count_write on estimates;
    create trigger count_write after insert or update on estimates for each row execute function count_write();`);
  return async () => Number((await world.central.pool.query<{ n: number }>('select n from write_count')).rows[0]!.n);
}

async function assertConverged(world: ExchangeWorld): Promise<void> {
  const [central, ...others] = await Promise.all(world.all().map((d) => contents(d.pool)));
  for (const [i, other] of others.entries()) assert.deepEqual(other, central, `desk${i + 1} differs from central`);
}

describe('exchange protocol', () => {
  let world: ExchangeWorld;
  before(async () => {
    world = await createExchangeWorld('xproto', {
      plan: fieldPlan({ packetSize: 50 }),
      seedCentral: async (pool) => {
        for (let i = 0; i < 120; i++) await insertWork(pool, { name: `work ${i}`, unit: 'm2', price: `${i}.125` });
      },
    });
  });
  after(async () => world?.close());

  it('gives a new node the central data (initial load) in bounded packets, then runs incrementally', async () => {
    const [desk1, desk2] = world.desks as [typeof world.desks[0], typeof world.desks[0]];
    const first = await exchangeRounds(desk1.endpoint);
    assert.equal(first.received, 120);
    assert.ok(first.rounds >= 4, `120 entities in packets of 50 take at least 3 rounds and a closing one (took ${first.rounds})`);
    await exchangeRounds(desk2.endpoint);
    await assertConverged(world);
    for (const d of world.all()) assert.equal(await pendingChanges(d.pool), 0);
  });

  it('registers a change for every other node, coalesces repeated edits and never echoes it back', async () => {
    const [desk1, desk2] = world.desks as [typeof world.desks[0], typeof world.desks[0]];
    const uuid = await insertEstimate(desk1.db.pool, { title: 'roof', amount: '100.00' });
    for (let i = 1; i <= 10; i++) await desk1.db.pool.query('update estimates set amount = $2 where uuid = $1', [uuid, `${100 + i}.00`]);
    const queued = await desk1.db.pool.query<{ n: string }>('select count(*) as n from ferry_exchange_changes where entity_uuid = $1', [uuid]);
    assert.equal(Number(queued.rows[0]!.n), 1, 'ten edits are one pending change');

    const c = await collect(desk1.endpoint);
    assert.equal(c.entities, 1);
    const s = await send(desk1.endpoint, c.packetNo);
    assert.equal(s.ack, c.packetNo);
    // the central node queued it for desk2 only: nothing goes back to desk1
    const forNodes = await world.central.pool.query<{ code: string }>(
      'select n.code from ferry_exchange_changes c join ferry_exchange_nodes n on n.id = c.node_id where c.entity_uuid = $1 order by n.code',
      [uuid],
    );
    assert.deepEqual(forNodes.rows.map((r) => r.code), ['desk2']);
    await exchangeRounds(desk1.endpoint);
    await exchangeRounds(desk2.endpoint);
    await assertConverged(world);
    const amount = await desk2.db.pool.query<{ amount: string }>('select amount::text from estimates where uuid = $1', [uuid]);
    assert.equal(amount.rows[0]!.amount, '110.00');
    for (const d of world.all()) assert.equal(await pendingChanges(d.pool), 0);
  });

  it('acknowledges a duplicated packet without applying it again', async () => {
    const [desk1] = world.desks as [typeof world.desks[0]];
    const writes = await countWrites(world);
    const uuid = await insertEstimate(desk1.db.pool, { title: 'duplicate me', amount: '1.00' });
    const c = await collect(desk1.endpoint);
    const envelope = (await desk1.db.pool.query<{ envelope: string }>('select envelope from ferry_exchange_outbox where packet_no = $1', [c.packetNo])).rows[0]!.envelope;
    const before = await writes();
    const duplicatesBefore = await packetLog(world, 'duplicate');
    const first = await rawPost(world, envelope, `Bearer ${world.tokens.desk1}`);
    const second = await rawPost(world, envelope, `Bearer ${world.tokens.desk1}`);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(JSON.parse(second.body).header.ack_packet_no, c.packetNo, 'the duplicate is acknowledged');
    assert.equal(await writes(), before + 1, 'the estimate was written once');
    assert.equal(await packetLog(world, 'duplicate'), duplicatesBefore + 1);
    assert.equal(Number((await centralRow(world, 'desk1')).received_packet_no), c.packetNo);
    await exchangeRounds(desk1.endpoint);
    await exchangeRounds(world.desks[1]!.endpoint);
    await assertConverged(world);
    assert.equal((await world.central.pool.query('select 1 from estimates where uuid = $1', [uuid])).rowCount, 1);
  });

  it('re-sends after a reply lost once the central node applied the packet: nothing is applied twice', async () => {
    const [desk1, desk2] = world.desks as [typeof world.desks[0], typeof world.desks[0]];
    const writes = await countWrites(world);
    await insertEstimate(desk1.db.pool, { title: 'lost reply', amount: '5.00' });
    const central = await insertReport(world.central.pool, { brigade: 'north', lines: [{ work: 'digging', quantity: '3.5' }] });
    const before = await writes();
    // the central node applies the packet and replies; the reply never arrives
    let lost = 0;
    const losing = { ...desk1.endpoint, post: async (url: string, token: string, body: string) => (await httpPost(url, token, body), lost++, Promise.reject(new Error('connection reset'))) };
    const c = await collect(losing);
    await assert.rejects(send(losing, c.packetNo), /connection reset/);
    assert.equal(lost, 1);
    assert.equal(Number((await centralRow(world, 'desk1')).received_packet_no), c.packetNo, 'the central node applied it');
    // the send activity's retry posts the same packet again: acknowledged, not applied again
    const again = await send(desk1.endpoint, c.packetNo);
    assert.equal(again.ack, c.packetNo);
    assert.equal(again.replyEntities, 1, 'the lost reply is simply sent again');
    await exchangeRounds(desk1.endpoint);
    assert.equal(await writes(), before + 1, 'the estimate was written once');
    await exchangeRounds(desk2.endpoint);
    await assertConverged(world);
    assert.equal((await desk1.db.pool.query('select 1 from daily_report_lines where report_uuid = $1', [central])).rowCount, 1);
  });

  it('refuses a packet of an unknown schema_version with a clear error, applying nothing', async () => {
    const [desk1] = world.desks as [typeof world.desks[0]];
    const newer = { ...desk1.endpoint, plan: fieldPlan({ schemaVersion: '2.0.0' }) };
    const uuid = await insertEstimate(desk1.db.pool, { title: 'from the future', amount: '9.00' });
    const before = await centralRow(world, 'desk1');
    const c = await collect(newer);
    const err = await send(newer, c.packetNo).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ExchangeSchemaMismatchError, String(err));
    assert.match(err.message, /HTTP 409.*schema_version "2\.0\.0" is not known here.*"1\.0\.0".*nothing was applied/);
    assert.equal((await world.central.pool.query('select 1 from estimates where uuid = $1', [uuid])).rowCount, 0);
    assert.deepEqual(await centralRow(world, 'desk1'), before);
    await exchangeRounds(desk1.endpoint); // the same change goes through with the right version
    assert.equal((await world.central.pool.query('select 1 from estimates where uuid = $1', [uuid])).rowCount, 1);
  });

  it('answers 401 without or with a wrong token, and 400 to a malformed body, changing nothing', async () => {
    const [desk1] = world.desks as [typeof world.desks[0]];
    await insertEstimate(desk1.db.pool, { title: 'refused', amount: '1.00' });
    const c = await collect(desk1.endpoint);
    const envelope = (await desk1.db.pool.query<{ envelope: string }>('select envelope from ferry_exchange_outbox where packet_no = $1', [c.packetNo])).rows[0]!.envelope;
    const centralBefore = await contents(world.central.pool);
    const rowBefore = await centralRow(world, 'desk1');
    const pendingBefore = await pendingChanges(world.central.pool);

    const none = await rawPost(world, envelope);
    const wrong = await rawPost(world, envelope, 'Bearer not-a-token');
    const otherNode = await rawPost(world, envelope, `Bearer ${world.tokens.desk2}`);
    assert.deepEqual([none.status, wrong.status, otherNode.status], [401, 401, 401]);
    assert.match(JSON.parse(wrong.body).error.message, /unknown node token/);
    const auth = `Bearer ${world.tokens.desk1}`;
    const malformed = [
      'not json',
      '{}',
      JSON.stringify({ header: { ...JSON.parse(envelope).header, packet_no: 'x' }, body: { entities: [] } }),
      JSON.stringify({ header: JSON.parse(envelope).header, body: { entities: [{ type: 'Nope', uuid: 'abc', operation: 'UPDATE', data: {} }] } }),
    ];
    for (const body of malformed) {
      const r = await rawPost(world, body, auth);
      assert.equal(r.status, 400, `${body.slice(0, 40)} -> ${r.body}`);
      assert.ok(JSON.parse(r.body).error.message.length > 10);
    }
    assert.deepEqual(await contents(world.central.pool), centralBefore);
    assert.deepEqual(await centralRow(world, 'desk1'), rowBefore);
    assert.equal(await pendingChanges(world.central.pool), pendingBefore);

    const badToken = { ...desk1.endpoint, token: 'stolen' };
    await assert.rejects(send(badToken, c.packetNo), (e: unknown) => e instanceof ExchangeAuthError && /HTTP 401/.test(e.message));
    await exchangeRounds(desk1.endpoint);
    await exchangeRounds(world.desks[1]!.endpoint);
    await assertConverged(world);
  });
});
