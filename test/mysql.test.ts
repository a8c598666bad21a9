// Postgres -> MariaDB through real Temporal runs (src/connectors/mysql): the
// target equals the source row for row — DECIMAL(30,10), BIGINT extremes,
// utf8mb4 text, JSON with numbers no double holds, DATETIME(6) microseconds —
// after a first run, after an incremental run over 10,000 changed rows (timed),
// and after a full pass that soft-deletes what the source lost. Then the other
// way: MariaDB (a MySQL source) -> Postgres. Then the connectors directly:
// duplicates in a batch, binary and zoned timestamps, look-back, lag, errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { mysqlSource } from '../src/connectors/mysql/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { asConnectorError, isRowLevelError } from '../src/connectors/mysql/errors.js';
import { mysqlTarget } from '../src/connectors/mysql/target.js';
import { TransientError } from '../src/connectors/errors.js';
import { ConfigurationError } from '../src/core/errors.js';
import { isLosslessNumber, JSON_NULL, LosslessNumber } from '../src/core/json-values.js';
import { createHarness, type Harness } from './support/harness.js';
import { createMysqlDatabase, type MysqlTestDatabase } from './support/mysql-database.js';
import { createSourceOrders, MYSQL_ORDERS_DDL, mysqlOrdersTarget, orderStream, seedOrders, sourceOrderRows, targetOrderRow } from './support/orders.js';

const ROWS = 10_000;

describe('Postgres -> MariaDB through Temporal', () => {
  let h: Harness;
  let my: MysqlTestDatabase;
  let view: string;
  let table: string;
  const stream = () => h.name('shop.orders->warehouse');

  before(async () => {
    h = await createHarness('mysql_e2e');
    my = await createMysqlDatabase('mysql_e2e');
    ({ table, view } = await createSourceOrders(h.db.pool));
    await my.query(MYSQL_ORDERS_DDL('orders'));
    await h.startWorker([
      orderStream(stream(), h.db.url, view, mysqlOrdersTarget(my.url, 'orders'), { batchSize: 10_000, deletes: { mode: 'mirror', maxDeleteFraction: 0.5 } }),
    ]);
  });
  after(async () => {
    await h?.close();
    await my?.drop();
  });

  const targetRows = async (live = true) =>
    (await my.query<Parameters<typeof targetOrderRow>[0]>(`select * from orders ${live ? 'where deleted_at is null' : ''} order by order_id`)).map(targetOrderRow);

  it(`a first run copies ${ROWS} orders exactly`, async (t) => {
    await seedOrders(h.db.pool, table, ROWS);
    const t0 = Date.now();
    const summary = await h.run({ stream: stream() });
    t.diagnostic(`first run: ${ROWS} rows created in ${((Date.now() - t0) / 1000).toFixed(2)} s (${summary.batches} batch(es))`);
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual({ ...summary.counts }, { created: ROWS, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const source = await sourceOrderRows(h.db.pool, table);
    assert.equal(source.length, ROWS);
    assert.deepEqual(await targetRows(), source, 'target equals source row for row');
    // the extremes are there, verbatim
    const [one] = await my.query<{ big: string; amount: string; note: string; payload: string; source_updated_at: string }>(`select * from orders where order_id = 3`);
    assert.equal(one?.big, '-9223372036854775808');
    assert.equal(one?.amount, '4.5000000000');
    assert.equal(one?.note, 'v1 заказ 3 😀 ✓ 日本語');
    assert.match(one?.payload ?? '', /"n":12345678901234567890126/);
    assert.match(one?.payload ?? '', /"f":0\.1000000000000000055511151231257827/);
    assert.equal(one?.source_updated_at, '2026-01-01 00:00:00.000003');
    const [max] = await my.query<{ big: string }>(`select big from orders where order_id = 4`);
    assert.equal(max?.big, '9223372036854775807');
    const bindings = await h.db.pool.query<{ internal_id: string; record_key: string }>(`select internal_id, record_key from ferry_bindings where stream = $1 and record_key = '["3"]'`, [stream()]);
    const [idOf3] = await my.query<{ id: string }>(`select id from orders where order_id = 3`);
    assert.equal(bindings.rows[0]?.internal_id, idOf3?.id, "the binding holds MariaDB's AUTO_INCREMENT id");
  });

  it(`an incremental run over ${ROWS} changed rows updates them all (timed), and a second finds nothing`, async (t) => {
    await seedOrders(h.db.pool, table, ROWS, 1, 3600, 'v2');
    const t0 = Date.now();
    const summary = await h.run({ stream: stream() });
    const seconds = (Date.now() - t0) / 1000;
    t.diagnostic(`incremental run: ${ROWS} changed rows updated in ${seconds.toFixed(2)} s (${summary.batches} batch(es) of up to 10,000)`);
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: ROWS, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(), await sourceOrderRows(h.db.pool, table));
    const again = await h.run({ stream: stream() });
    assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 0 });
  });

  it('a full pass with mirror deletes soft-deletes what the source lost; a row refused by MariaDB is a dead letter', async () => {
    await h.db.pool.query(`delete from ${table} where id % 100 = 7`);
    // too long for a MariaDB TEXT (64 KB): MariaDB refuses this one row, the others are written
    await h.db.pool.query(`update ${table} set note = repeat('x', 70000), updated_at = updated_at + interval '1 hour' where id = 10`);
    const summary = await h.run({ stream: stream(), full: true });
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: 0, skipped: ROWS - 100 - 1, deleted: 100, failed: 1 });
    const { rows: letters } = await h.db.pool.query<{ error: string }>(`select error from ferry_dead_letters where stream = $1`, [stream()]);
    assert.equal(letters.length, 1);
    assert.match(letters[0]?.error ?? '', /field "note": Data too long/);
    const live = await targetRows();
    const expected = (await sourceOrderRows(h.db.pool, table)).filter((r) => !r.startsWith('10|'));
    assert.deepEqual(live.filter((r) => !r.startsWith('10|')), expected);
    const [soft] = await my.query<{ n: number }>(`select count(*) as n from orders where deleted_at is not null`);
    assert.equal(Number(soft?.n), 100, 'soft-deleted, still there');
  });
});

describe('MariaDB -> Postgres through Temporal (the MySQL source in a real run)', () => {
  let h: Harness;
  let my: MysqlTestDatabase;
  before(async () => {
    h = await createHarness('mysql_src');
    my = await createMysqlDatabase('mysql_src');
  });
  after(async () => {
    await h?.close();
    await my?.drop();
  });

  it('reads DATETIME(6) ties, BIGINT, DECIMAL and JSON exactly; a later run reads only what changed', async () => {
    await my.query(`create table items (id bigint primary key, price decimal(30,10) not null, doc json, bin varbinary(8), changed_at datetime(6) not null, key (changed_at, id))`);
    await my.query(
      `insert into items values ${Array.from({ length: 25 }, (_, i) => `(${9223372036854775000n + BigInt(i)}, '1234567890.0000000001', '{"n": 123456789012345678901, "i": ${i}}', x'00ff${i.toString(16).padStart(2, '0')}', '2026-01-01 00:00:00.${String(Math.floor(i / 10)).padStart(6, '0')}')`).join(', ')}`,
    );
    await h.db.pool.query(`create table items (id bigint primary key, price numeric(30,10) not null, doc jsonb, bin bytea, changed_at timestamp(6) not null)`);
    const seen: unknown[] = [];
    const name = h.name('erp.items->app');
    await h.startWorker([
      defineStream({
        name,
        source: mysqlSource({ url: my.url, table: 'items', system: 'erp', cursor: { column: 'changed_at', kind: 'timestamp' } }),
        schema: z.object({ id: z.string(), price: z.string(), doc: z.unknown(), bin: z.string(), changed_at: z.string() }),
        map: (r) => {
          seen.push((r.doc as { n: unknown }).n);
          return { kind: 'item', fields: { id: r.id, price: r.price, doc: r.doc, bin: r.bin, changed_at: r.changed_at } };
        },
        target: postgresTarget({ url: h.db.url, table: 'items', key: 'id', system: 'app' }),
        key: 'id',
        batchSize: 4,
        retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
      }),
    ]);
    const first = await h.run({ stream: name });
    assert.deepEqual({ ...first.counts }, { created: 25, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.ok(seen.every((n) => isLosslessNumber(n) && n.toString().startsWith('123456789012345678901')), 'the mapper sees the big JSON number exactly');
    const { rows } = await h.db.pool.query<{ id: string; price: string; bin: string; changed_at: string }>(`select id::text, price::text, encode(bin, 'hex') as bin, changed_at::text from items order by id`);
    assert.equal(rows.length, 25);
    assert.deepEqual(rows[0], { id: '9223372036854775000', price: '1234567890.0000000001', bin: '00ff00', changed_at: '2026-01-01 00:00:00' });
    assert.deepEqual(rows[24], { id: '9223372036854775024', price: '1234567890.0000000001', bin: '00ff18', changed_at: '2026-01-01 00:00:00.000002' });

    await my.query(`update items set price = 2, changed_at = '2026-01-02 00:00:00.000001' where id = 9223372036854775007`);
    const second = await h.run({ stream: name });
    assert.deepEqual({ ...second.counts }, { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    const { rows: changed } = await h.db.pool.query<{ price: string }>(`select price::text from items where id = 9223372036854775007`);
    assert.equal(changed[0]?.price, '2.0000000000');
    await h.stopWorker();
  });
});

describe('mysql connectors, directly', () => {
  let my: MysqlTestDatabase;
  const ctx = { stream: 'direct', runId: 'run' };
  before(async () => {
    my = await createMysqlDatabase('mysql_direct');
  });
  after(() => my?.drop());

  it('target: a key twice in one batch — the last row wins, both get its id; binary as \\x hex; zoned timestamps moved to UTC with their microseconds', async () => {
    await my.query(`create table dup (id bigint auto_increment primary key, k varchar(20) not null unique, v varchar(20), bin varbinary(4), at datetime(6), doc json)`);
    const target = mysqlTarget({ url: my.url, table: 'dup', key: 'k', idColumn: 'id', system: 'warehouse' });
    try {
      const row = (k: string, v: string, extra: Record<string, unknown> = {}) => ({ key: [k], internalId: null, op: 'create' as const, version: v, projection: { kind: 'x', fields: { k, v, ...extra } } });
      const result = await target.upsert(
        [
          row('a', 'first'),
          row('b', 'only', { bin: '\\x00ff10', at: '2026-03-01 10:00:00.123456+05:30', doc: JSON_NULL }),
          row('a', 'last', { bin: Buffer.from([1, 2]), at: '2026-03-01T00:00:00.000001Z', doc: { n: new LosslessNumber('1.10') } }),
        ],
        ctx,
      );
      assert.deepEqual(result.rejected, []);
      assert.equal(result.ids[0], result.ids[2], 'both rows of key a get its one id');
      const rows = await my.query<{ k: string; v: string; bin: string; at: string; doc: string }>(`select k, v, hex(bin) as bin, at, doc from dup order by k`);
      assert.deepEqual(rows, [
        { k: 'a', v: 'last', bin: '0102', at: '2026-03-01 00:00:00.000001', doc: '{"n":1.10}' },
        { k: 'b', v: 'only', bin: '00FF10', at: '2026-03-01 04:30:00.123456', doc: 'null' },
      ]);
      // read back by the MySQL source: binary as \x hex, JSON exact, JSON null apart from SQL NULL
      const source = mysqlSource({ url: my.url, table: 'dup', system: 'erp' });
      const page = await source.fetch({ shape: { stream: 'direct', key: ['k'] }, after: null, limit: 10, mode: 'full', rewind: false });
      assert.equal(page.rows[0]?.bin, '\\x0102');
      assert.ok(isLosslessNumber((page.rows[0]?.doc as { n: unknown }).n));
      assert.equal(page.rows[1]?.doc, JSON_NULL);
      await source.close();
    } finally {
      await target.close();
    }
  });

  it('source: look-back re-reads a window behind the checkpoint; lag() from a DATETIME(6) checkpoint', async () => {
    await my.query(`create table lb (id int primary key, at datetime(6) not null, seq bigint not null)`);
    await my.query(`insert into lb values (1, '2026-01-01 00:00:00.000001', 10), (2, '2026-01-01 00:04:00', 20), (3, '2026-01-01 00:10:00', 30)`);
    const shape = { stream: 'direct', key: ['id'] };
    const byTime = mysqlSource({ url: my.url, table: 'lb', system: 'erp', cursor: { column: 'at', kind: 'timestamp' }, lookBack: '5 minutes' });
    const bySeq = mysqlSource({ url: my.url, table: 'lb', system: 'erp', cursor: { column: 'seq', kind: 'sequence' }, lookBack: 15 });
    try {
      const all = await byTime.fetch({ shape, after: null, limit: 10, mode: 'incremental', rewind: false });
      assert.deepEqual(all.next, { value: '2026-01-01 00:10:00.000000', key: ['3'] });
      const again = await byTime.fetch({ shape, after: all.next, limit: 10, mode: 'incremental', rewind: true });
      assert.deepEqual(again.rows.map((r) => r.id), [3], 'rewound 5 minutes: 00:05:00 on');
      const plain = await byTime.fetch({ shape, after: all.next, limit: 10, mode: 'incremental', rewind: false });
      assert.deepEqual(plain.rows, []);
      assert.equal(byTime.lag(all.next as never, new Date('2026-01-01T00:11:00.5Z')), 60.5);
      const seqAll = await bySeq.fetch({ shape, after: null, limit: 10, mode: 'incremental', rewind: false });
      const seqAgain = await bySeq.fetch({ shape, after: seqAll.next, limit: 10, mode: 'incremental', rewind: true });
      assert.deepEqual(seqAgain.rows.map((r) => r.id), [2, 3], 'rewound 15: seq 15 on');
      assert.equal(bySeq.lag(seqAll.next as never, new Date()), null, 'a sequence tells no time');
    } finally {
      await byTime.close();
      await bySeq.close();
    }
  });

  it('errors: bad identifiers and a missing table are configuration errors; a refused connection and a deadlock are transient', async () => {
    assert.throws(() => mysqlTarget({ url: my.url, table: 'x`; drop table y', key: 'k', system: 'w' }), ConfigurationError);
    assert.throws(() => mysqlSource({ url: my.url, table: 'a.b.c', system: 'erp' }), ConfigurationError);
    assert.throws(() => mysqlSource({ url: my.url, table: 't', system: 'erp', lookBack: 5 }), /needs a cursor/);
    const missing = mysqlTarget({ url: my.url, table: 'nope', key: 'k', system: 'w' });
    await assert.rejects(missing.check(), (err: unknown) => err instanceof ConfigurationError && /`nope` does not exist/.test(err.message));
    await missing.close();
    const refused = mysqlTarget({ url: 'mysql://root@127.0.0.1:1/x', table: 't', key: 'k', system: 'w' });
    await assert.rejects(refused.check(), (err: unknown) => err instanceof TransientError);
    await refused.close();
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { errno: 1213, sqlState: '40001', code: 'ER_LOCK_DEADLOCK', sql: 'insert … secret values' });
    const mapped = asConnectorError(deadlock, 'writing `t`');
    assert.ok(mapped instanceof TransientError);
    assert.doesNotMatch((mapped as Error).message, /secret/, 'the SQL text (record values) is not kept');
    assert.equal(isRowLevelError(Object.assign(new Error('x'), { errno: 1366, sqlState: 'HY000' })), true);
  });
});
