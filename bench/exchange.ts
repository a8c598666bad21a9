// Exchange plans benchmark: npx tsx bench/exchange.ts   (writes bench/EXCHANGE-REPORT.md)
//
//   handshake   10,000 changed entities on a desktop (estimates, works, reports with 2 lines)
//               exchanged in ONE handshake (packetSize 10,000): collect, HTTP, the central node's
//               apply + reply, acknowledge, apply; and 10,000 central changes the other way.
//   backlog     a desktop offline while the central node gets 100,000 new entities; its next
//               exchange catches up in bounded packets (default packetSize 1,000, and 10,000).
//
// The protocol steps run in-process over real HTTP between real databases (no Temporal: the
// workflow adds a few activity round-trips per packet, not per entity).
// Environment: BENCH_X_CHANGES [10000]  BENCH_X_BACKLOG [100000]  BENCH_X_REPEAT [3]
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { defineExchange } from '../src/exchange/define-exchange.js';
import { addNode } from '../src/exchange/nodes.js';
import { acknowledge, applyReply, collect, exchangeRounds, initPeripheral, send, type PeripheralEndpoint } from '../src/exchange/peripheral.js';
import { installExchange } from '../src/exchange/schema.js';
import { startExchangeServer } from '../src/exchange/server.js';
import { createTestDatabase, type TestDatabase } from '../test/support/database.js';
import { FIELD_TABLES } from '../test/support/exchange.js';

const CHANGES = Number(process.env.BENCH_X_CHANGES ?? 10_000);
const BACKLOG = Number(process.env.BENCH_X_BACKLOG ?? 100_000);
const REPEAT = Number(process.env.BENCH_X_REPEAT ?? 3);

const plan = (packetSize: number) =>
  defineExchange({
    name: 'bench',
    schemaVersion: '1',
    packetSize,
    entities: {
      DailyReport: { table: 'daily_reports', columns: ['report_date', 'brigade', 'note', 'hours'], lines: { lines: { table: 'daily_report_lines', parent: 'report_uuid', columns: ['work', 'quantity'] } } },
      Estimate: { table: 'estimates', columns: ['title', 'amount', 'status'], conflict: 'last-writer-wins' },
      Work: { table: 'works', columns: ['name', 'unit', 'price'], conflict: 'merge' },
    },
  });

const ms = (t: number) => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${Math.round(t)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await work();
  return [r, performance.now() - t];
}

/** `n` entities: half estimates, a quarter works, a quarter reports with two lines each. */
async function insertEntities(pool: pg.Pool, n: number, tag: string): Promise<void> {
  const e = Math.floor(n / 2);
  const w = Math.floor(n / 4);
  const r = n - e - w;
  await pool.query(`insert into estimates (uuid, title, amount, status) select gen_random_uuid(), $2 || i, i * 1.25, 'draft' from generate_series(1, $1) i`, [e, tag]);
  await pool.query(`insert into works (uuid, name, unit, price) select gen_random_uuid(), $2 || i, 'm2', i * 0.5 from generate_series(1, $1) i`, [w, tag]);
  await pool.query(
    `with r as (insert into daily_reports (uuid, report_date, brigade, hours) select gen_random_uuid(), current_date, $2 || i, 8 from generate_series(1, $1) i returning uuid)
     insert into daily_report_lines (uuid, report_uuid, work, quantity) select gen_random_uuid(), r.uuid, 'w' || k, k * 1.5 from r, generate_series(1, 2) k`,
    [r, tag],
  );
}

/** Changes every entity of the database (a new value per row: one change per entity). */
async function touchAll(pool: pg.Pool, tag: string): Promise<void> {
  await pool.query(`update estimates set title = $1 || uuid`, [tag]);
  await pool.query(`update works set name = $1 || uuid`, [tag]);
  await pool.query(`update daily_reports set note = $1`, [tag]);
}

interface World {
  central: TestDatabase;
  desk: TestDatabase;
  endpoint: PeripheralEndpoint;
  close(): Promise<void>;
}

async function world(label: string, packetSize: number): Promise<World> {
  const p = plan(packetSize);
  const central = await createTestDatabase(`xbench_${label}_c`);
  const desk = await createTestDatabase(`xbench_${label}_d`);
  for (const d of [central, desk]) await d.pool.query(FIELD_TABLES);
  await installExchange(central.pool, p, { code: 'central', isCentral: true });
  const server = await startExchangeServer({ pool: central.pool, plan: p });
  const { token } = await addNode(central.pool, p, { code: 'desk' });
  const endpoint: PeripheralEndpoint = { code: 'desk', pool: desk.pool, plan: p, centralUrl: server.url, token };
  await initPeripheral(endpoint);
  return {
    central,
    desk,
    endpoint,
    async close() {
      await server.close();
      await Promise.allSettled([central.drop(), desk.drop()]);
    },
  };
}

async function oneHandshake(endpoint: PeripheralEndpoint) {
  const [c, tCollect] = await timed(() => collect(endpoint));
  const [s, tSend] = await timed(() => send(endpoint, c.packetNo));
  const [, tAck] = await timed(() => acknowledge(endpoint, s.ack));
  const [a, tApply] = await timed(() => applyReply(endpoint, s.replyPacketNo));
  return { sent: c.entities, received: s.replyEntities, applied: a.entities, tCollect, tSend, tAck, tApply, total: tCollect + tSend + tAck + tApply };
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const started = new Date();
  const load = os.loadavg()[0]!.toFixed(1);

  // 1. 10,000 changes in one handshake, both directions.
  const w = await world('hs', CHANGES);
  const up: Awaited<ReturnType<typeof oneHandshake>>[] = [];
  const down: Awaited<ReturnType<typeof oneHandshake>>[] = [];
  let insertMs = 0;
  try {
    [, insertMs] = await timed(() => insertEntities(w.desk.pool, CHANGES, 'd'));
    for (let i = 0; i < REPEAT; i++) {
      if (i > 0) await touchAll(w.desk.pool, `desk ${i} `);
      up.push(await oneHandshake(w.endpoint));
      await exchangeRounds(w.endpoint); // the closing round (acknowledgements)
      await touchAll(w.central.pool, `central ${i} `);
      down.push(await oneHandshake(w.endpoint));
      await exchangeRounds(w.endpoint);
    }
  } finally {
    await w.close();
  }
  const row = (name: string, rs: typeof up) =>
    `| ${name} | ${rs[0]!.sent || rs[0]!.received} | ${ms(median(rs.map((r) => r.total)))} (${ms(Math.min(...rs.map((r) => r.total)))}–${ms(Math.max(...rs.map((r) => r.total)))}) | ${ms(median(rs.map((r) => r.tCollect)))} | ${ms(median(rs.map((r) => r.tSend)))} | ${ms(median(rs.map((r) => r.tApply)))} |`;
  lines.push(
    `## ${CHANGES.toLocaleString('en')} changes in one handshake`,
    '',
    `Medians of ${REPEAT} (min–max). The first desk→central run inserts, the others update every entity. "send" is the HTTP round trip, in which the central node applies the packet and builds its reply, in one transaction.`,
    '',
    '| direction | entities | handshake (min–max) | collect | send (central apply + reply) | apply reply |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('desk → central', up),
    row('central → desk', down),
    '',
    `Writing those ${CHANGES.toLocaleString('en')} entities on the desk, with the change-registration triggers: ${ms(insertMs)}.`,
    '',
  );
  console.log(lines.join('\n'));

  // 2. A long offline period: the central node gets BACKLOG new entities; the desk catches up.
  lines.push(`## A ${BACKLOG.toLocaleString('en')}-change backlog after a long offline period`, '', '| packet size | entities | rounds | wall | entities/s |', '| ---: | ---: | ---: | ---: | ---: |');
  for (const size of [1000, 10_000]) {
    const b = await world(`bl${size}`, size);
    try {
      await exchangeRounds(b.endpoint);
      await insertEntities(b.central.pool, BACKLOG, 'c');
      const [summary, wall] = await timed(() => exchangeRounds(b.endpoint));
      const count = Number((await b.desk.pool.query<{ n: string }>('select (select count(*) from estimates) + (select count(*) from works) + (select count(*) from daily_reports) as n')).rows[0]!.n);
      if (count !== BACKLOG) throw new Error(`backlog: the desk has ${count} entities, not ${BACKLOG}`);
      lines.push(`| ${size.toLocaleString('en')} | ${summary.received.toLocaleString('en')} | ${summary.rounds} | ${ms(wall)} | ${Math.round(summary.received / (wall / 1000)).toLocaleString('en')} |`);
      console.log(lines.at(-1));
    } finally {
      await b.close();
    }
  }
  const header = [
    '# ferry benchmark: exchange plans',
    '',
    `Generated by \`npx tsx bench/exchange.ts\`, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC. Local Postgres, central node and one desktop on the same machine (${os.cpus().length} cores, shared; load average ${load} at the start).`,
    '',
  ];
  await writeFile(new URL('./EXCHANGE-REPORT.md', import.meta.url), [...header, ...lines, ''].join('\n'));
}

await main();
