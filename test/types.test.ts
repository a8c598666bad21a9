// Values arrive equal (issue 7, part 2): a table with every common Postgres
// type at its edges is synced Postgres -> Postgres through real runs (and
// through a dead letter and its replay), then compared with EXCEPT both ways
// and as row::text per key. The schema and mapper see the documented JS values.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { MappingError } from '../src/core/errors.js';
import { isJsonNull, isLosslessNumber, JSON_NULL, LosslessNumber } from '../src/index.js';
import { decodeRecords, encodeRecords, encodeRecordsForJsonb } from '../src/state/codec.js';
import { streamWorkflowId } from '../src/workflows/ids.js';
import type { replayDeadLetters } from '../src/workflows/replay-dead-letters.js';
import { createHarness, type Harness } from './support/harness.js';

const COLUMNS = `
  id int primary key,
  i2 smallint, i4 integer, i8 bigint, num numeric, num_scaled numeric(12,4), f4 real, f8 double precision, cash money,
  flag boolean, js json, jb jsonb, i4a integer[], i8a bigint[], ta text[], na numeric[], f8a double precision[],
  jba jsonb[], bounded integer[], tsa timestamptz[], grid integer[][],
  bin bytea, uid uuid, ip inet, net cidr, mac macaddr, iv interval,
  d date, t time, ttz timetz, ts timestamp, tstz timestamptz, txt text, vc varchar(20), ch char(5), bits varbit, mood mood, pt point`;

/** Every row at some edge; row 4 is SQL NULL in every column. */
const ROWS = `
insert into %s values
(1, 32767, 2147483647, 9223372036854775807, 1234567890123456789012345678901234567890.123456789, 12345678.1230,
 3.4028235e38, 0.30000000000000004, '92233720368547758.07', true,
 '{"b":1,"a":[1,2.50,null],"big":12345678901234567890123,"s":"x\\"y"}',
 '{"n": 9007199254740993, "big": 12345678901234567890123, "tiny": 1e-400, "price": 10.50, "nested": {"x": null, "arr": [null, 1.0, -0]}}',
 '{1,NULL,3}', '{9223372036854775807,-9223372036854775808}',
 array['a,b', 'quote"d', 'NULL', null, 'back\\slash', '{brace}', ' spaced ', ''],
 '{1.10,NaN,12345678901234567890.5}', '{NaN,Infinity,-Infinity,-0,1.5,5e-324}',
 array['{"a": 1.50}'::jsonb, 'null'::jsonb, null, '[1, "two"]'::jsonb], '[0:2]={7,8,9}',
 array['infinity'::timestamptz, '2024-01-01 00:00:00.123456+00', null], '{{1,2},{3,NULL}}',
 '\\x00ff00'::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
 '1 year 2 mons 3 days 04:05:06.789012', 'infinity', '23:59:59.999999', '12:00:00.5+05:30',
 '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.789012+00',
 E'tab\\there\\nnewline\\rreturn \\x01\\x1f ctrl \\u00e9 \\U0001F600 back\\\\slash ''quote''', 'abc', 'ab', '1010', 'happy', '(1.5,2)'),
(2, -32768, -2147483648, -9223372036854775808, 'NaN', -0.0001, 'NaN', 'Infinity', '-92233720368547758.08', false,
 'null', 'null', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
 '\\x'::bytea, '00000000-0000-0000-0000-000000000000', '::1', '::/0', '00:00:00:00:00:00',
 '-1 days +00:00:00.000001', '-infinity', '00:00:00', '00:00:00-14:59', '0044-03-15 10:00:00 BC', '-infinity',
 '', '', '', '', 'sad', '(0,0)'),
(3, 0, 0, 0, -0.000000000000000000000000000001, 0, '-0', '-Infinity', '0', null,
 '[]', '"a string"', null, null, null, null, null, null, null, null, null,
 '\\x0001020304', null, null, null, null, '0 seconds', '0001-01-01 BC', '24:00:00', null,
 'infinity', '4713-01-01 00:00:00+00 BC', '😀', null, null, null, null, null),
(4, ${Array(37).fill('null').join(', ')}),
(5, null, null, null, null, null, null, '1.7976931348623157e308', null, null,
 '{"big":1e400,"neg":-12.50,"e":1E5}', '{"a": 1e400, "b": -12.50, "c": 1E5, "d": 123.456}', null, null, null, null, '{-0,0}', null, null, null, null,
 null, null, null, null, null, null, null, null, null, null, '2000-01-01 00:00:00.000001+14', null, null, null, null, null, null)`;

async function createTables(h: Harness, suffix: string): Promise<{ source: string; target: string }> {
  const source = `types_src${suffix}`;
  const target = `types_dst${suffix}`;
  await h.db.pool.query(`do $$ begin create type mood as enum ('sad', 'happy'); exception when duplicate_object then null; end $$`);
  await h.db.pool.query(`create table ${source} (${COLUMNS})`);
  await h.db.pool.query(`create table ${target} (${COLUMNS})`);
  await h.db.pool.query(ROWS.replace('%s', source));
  return { source, target };
}

/** Columns as EXCEPT can compare them (json and point have no equality operator). */
const comparable = `id, i2, i4, i8, num, num_scaled, f4, f8, cash, flag, js::text, jb, i4a, i8a, ta, na, f8a, jba, bounded, tsa, grid,
  bin, uid, ip, net, mac, iv, d, t, ttz, ts, tstz, txt, vc, ch, bits, mood, pt::text`;

async function assertEqualTables(h: Harness, tables: { source: string; target: string }): Promise<void> {
  const text = async (table: string) =>
    (await h.db.pool.query<{ id: number; row: string }>(`select id, r::text as row from ${table} r order by id`)).rows;
  const [source, target] = [await text(tables.source), await text(tables.target)];
  assert.equal(source.length, 5);
  for (const [i, row] of source.entries()) assert.equal(target[i]?.row, row.row, `row ${row.id} as text`);
  for (const [a, b] of [
    [tables.source, tables.target],
    [tables.target, tables.source],
  ]) {
    const { rows } = await h.db.pool.query(`select ${comparable} from ${a} except select ${comparable} from ${b}`);
    assert.deepEqual(rows, [], `rows of ${a} that ${b} lacks`);
  }
}

const anyRecord = z.record(z.string(), z.unknown());

describe('state store codec', () => {
  it('round-trips what plain JSON cannot hold, and leaves plain JSON plain', () => {
    const record = {
      exact: [new LosslessNumber('10.50'), new LosslessNumber('9007199254740993'), -0, 0, 1.5],
      jsonNull: JSON_NULL,
      nested: { inner: [JSON_NULL, null], big: 12345678901234567890n },
      bytes: Buffer.from([0, 255, 0]),
      lookalike: { '~ferry.number': '1', other: 'x' },
      text: 'a "~ferry.number" inside a string',
    };
    const text = encodeRecords(record);
    const back = decodeRecords<typeof record>(text);
    assert.deepEqual(back, record);
    assert.ok(Object.is(back.exact[2], -0));
    assert.equal(back.jsonNull, JSON_NULL);
    assert.deepEqual(decodeRecords(encodeRecordsForJsonb(record)), record);

    const plain = { id: 1, name: 'x', list: [1, 'two', null], at: '2024-01-01 00:00:00+00' };
    assert.equal(encodeRecords(plain), JSON.stringify(plain));
    // nested objects out of jsonb's key order travel as entries only for jsonb
    const unordered = { id: 1, js: { b: 1, a: 2 } };
    assert.equal(encodeRecordsForJsonb(unordered), '{"id":1,"js":{"~ferry.object":[["b",1],["a",2]]}}');
    assert.deepEqual(Object.keys((decodeRecords(encodeRecordsForJsonb(unordered)) as typeof unordered).js), ['b', 'a']);
  });
});

describe('values arrive equal', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness('types');
  });
  after(() => h.close());

  it('syncs every common type at its edges unchanged, and the mapper sees the documented values', async () => {
    const tables = await createTables(h, '');
    const stream = h.name('types.sync');
    const seen = new Map<number, Record<string, unknown>>();
    await h.startWorker([
      defineStream({
        name: stream,
        source: postgresSource({ url: h.db.url, table: tables.source, system: 'src' }),
        schema: anyRecord,
        map: (record) => {
          seen.set(record.id as number, record);
          return { kind: 'row', fields: record };
        },
        target: postgresTarget({ url: h.db.url, table: tables.target, key: 'id', system: 'dst' }),
        key: 'id',
        batchSize: 2,
      }),
    ]);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 5, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    await assertEqualTables(h, tables);

    // JSON null and SQL NULL stay apart.
    const { rows: nulls } = await h.db.pool.query(`select id, jb is null as sql_null, jb = 'null'::jsonb as json_null from ${tables.target} where id in (2, 4) order by id`);
    assert.deepEqual(nulls, [
      { id: 2, sql_null: false, json_null: true },
      { id: 4, sql_null: true, json_null: null },
    ]);

    // What the mapper saw (README: "What your schema and mapper see").
    const one = seen.get(1) as Record<string, unknown>;
    assert.equal(one.i2, 32767);
    assert.equal(one.i4, 2147483647);
    assert.equal(one.i8, '9223372036854775807');
    assert.equal(one.num, '1234567890123456789012345678901234567890.123456789');
    assert.equal(one.num_scaled, '12345678.1230');
    assert.equal(one.f8, 0.30000000000000004);
    assert.equal(typeof one.f4, 'number');
    assert.equal(one.flag, true);
    assert.equal(typeof one.cash, 'string');
    const jb = one.jb as Record<string, unknown>;
    assert.deepEqual(jb.n, new LosslessNumber('9007199254740993'));
    assert.ok(isLosslessNumber(jb.price));
    assert.equal(String(jb.price), '10.50');
    assert.deepEqual(jb.big, new LosslessNumber('12345678901234567890123'));
    assert.deepEqual(jb.tiny, new LosslessNumber(`0.${'0'.repeat(399)}1`), 'jsonb prints 1e-400 in full');
    assert.deepEqual(jb.nested, { x: null, arr: [null, new LosslessNumber('1.0'), 0] });
    assert.deepEqual(one.js, { b: 1, a: [1, new LosslessNumber('2.50'), null], big: new LosslessNumber('12345678901234567890123'), s: 'x"y' });
    assert.deepEqual(one.i4a, [1, null, 3]);
    assert.deepEqual(one.i8a, ['9223372036854775807', '-9223372036854775808']);
    assert.deepEqual(one.ta, ['a,b', 'quote"d', 'NULL', null, 'back\\slash', '{brace}', ' spaced ', '']);
    assert.deepEqual(one.na, ['1.10', 'NaN', '12345678901234567890.5']);
    assert.deepEqual(one.f8a, ['NaN', 'Infinity', '-Infinity', -0, 1.5, 5e-324]);
    assert.deepEqual(one.jba, [{ a: new LosslessNumber('1.50') }, JSON_NULL, null, [1, 'two']]);
    assert.equal(one.bounded, '[0:2]={7,8,9}');
    assert.deepEqual(one.tsa, ['infinity', '2024-01-01 00:00:00.123456+00', null]);
    assert.deepEqual(one.grid, [
      [1, 2],
      [3, null],
    ]);
    assert.equal(one.bin, '\\x00ff00');
    assert.equal(one.uid, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.equal(one.ip, '192.168.0.1/24');
    assert.equal(one.iv, '1 year 2 mons 3 days 04:05:06.789012');
    assert.equal(one.d, 'infinity');
    assert.equal(one.ts, '2024-02-29 12:34:56.789012');
    assert.match(one.tstz as string, /^2024-02-29 \d\d:34:56\.789012[+-]\d\d/);
    assert.equal(one.pt, '(1.5,2)');
    const two = seen.get(2) as Record<string, unknown>;
    assert.equal(two.i8, '-9223372036854775808');
    assert.equal(two.num, 'NaN');
    assert.equal(two.f4, 'NaN');
    assert.equal(two.f8, 'Infinity');
    assert.equal(two.jb, JSON_NULL);
    assert.ok(isJsonNull(two.js));
    assert.equal(two.bin, '\\x');
    assert.equal(two.ts, '0044-03-15 10:00:00 BC');
    assert.ok(Object.is((seen.get(3) as Record<string, unknown>).f4, -0));
    const four = seen.get(4) as Record<string, unknown>;
    assert.ok(Object.entries(four).every(([k, v]) => k === 'id' || v === null));

    // The state store keeps them exactly (staging, dead letters): decode(encode(x)) is x.
    for (const record of seen.values()) assert.deepEqual(decodeRecords(encodeRecords(record)), record);

    // Nothing changed: the next run rewrites nothing (the version hash of every record is stable).
    const again = await h.run({ stream });
    assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 5, deleted: 0, failed: 0 });
  });

  it('writes what a mapper produces as the text Postgres reads for each column', async () => {
    await h.db.pool.query(`create table mapped_src (id int primary key)`);
    await h.db.pool.query(`insert into mapped_src values (1)`);
    await h.db.pool.query(
      `create table mapped_dst (id int primary key, at timestamptz, bin bytea, big bigint, amount numeric, doc jsonb, nothing jsonb, sql_null jsonb,
        tags text[], nums numeric[], flag boolean, f8 float8, nan float8, label varchar(3))`,
    );
    const stream = h.name('types.mapped');
    await h.startWorker([
      defineStream({
        name: stream,
        source: postgresSource({ url: h.db.url, table: 'mapped_src', system: 'src' }),
        schema: anyRecord,
        map: (record) => ({
          kind: 'row',
          fields: {
            id: record.id,
            at: new Date('2024-01-02T03:04:05.678Z'),
            bin: Buffer.from([0, 1, 2]),
            big: 9007199254740993n,
            amount: new LosslessNumber('10.50'),
            doc: { a: [1, null, 'x'], n: new LosslessNumber('12345678901234567890123') },
            nothing: JSON_NULL,
            sql_null: null,
            tags: ['a,b', '"q"', null, 'NULL', 'back\\slash'],
            nums: [new LosslessNumber('1.10'), 2, '3.30'],
            flag: false,
            f8: -0,
            nan: Number.NaN,
            label: 'abc',
          },
        }),
        target: postgresTarget({ url: h.db.url, table: 'mapped_dst', key: 'id', system: 'dst' }),
        key: 'id',
      }),
    ]);
    const summary = await h.run({ stream });
    assert.deepEqual({ ...summary.counts }, { created: 1, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const { rows } = await h.db.pool.query(
      `select at = '2024-01-02T03:04:05.678Z'::timestamptz as at, bin = '\\x000102'::bytea as bin, big::text as big, amount::text as amount,
              doc = '{"a": [1, null, "x"], "n": 12345678901234567890123}'::jsonb as doc, nothing = 'null'::jsonb as nothing, sql_null is null as sql_null,
              tags = array['a,b', '"q"', null, 'NULL', 'back\\slash'] as tags, nums::text as nums, flag, f8::text as f8, nan::text as nan, label
       from mapped_dst`,
    );
    assert.deepEqual(rows, [
      { at: true, bin: true, big: '9007199254740993', amount: '10.50', doc: true, nothing: true, sql_null: true, tags: true, nums: '{1.10,2,3.30}', flag: false, f8: '-0', nan: 'NaN', label: 'abc' },
    ]);
  });

  it('a record kept as a dead letter arrives exact when replayed', async () => {
    const tables = await createTables(h, '_dlq');
    const stream = h.name('types.dlq');
    let rejectOdd = true;
    await h.startWorker([
      defineStream({
        name: stream,
        source: postgresSource({ url: h.db.url, table: tables.source, system: 'src' }),
        schema: anyRecord,
        map: (record) => {
          if (rejectOdd && (record.id as number) % 2 === 1) throw new MappingError('odd ids wait for the fix');
          return { kind: 'row', fields: record };
        },
        target: postgresTarget({ url: h.db.url, table: tables.target, key: 'id', system: 'dst' }),
        key: 'id',
      }),
    ]);
    const first = await h.run({ stream });
    assert.deepEqual({ ...first.counts }, { created: 2, updated: 0, skipped: 0, deleted: 0, failed: 3 });

    rejectOdd = false;
    const handle = await h.client.workflow.start<typeof replayDeadLetters>('replayDeadLetters', {
      workflowId: streamWorkflowId(stream),
      taskQueue: h.settings.taskQueue,
      args: [{ stream }],
    });
    const replay = await handle.result();
    assert.equal(replay.status, 'succeeded');
    assert.deepEqual({ ...replay.counts }, { created: 3, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const { rows } = await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters where stream = $1`, [stream]);
    assert.equal(rows[0].n, 0);
    await assertEqualTables(h, tables);
  });
});
