// HTTP source records/s against the local test API (test/support/http-fault-server.ts),
// no faults: BENCH_HTTP_RECORDS [20000] records of 6 fields, pages of BENCH_HTTP_PAGE [500],
// incremental by updated_since, Link-header paging.
//   1. the connector alone: fetch() page after page until done;
//   2. a real run through Temporal: HTTP source -> Postgres target (batch = page size).
// Needs Postgres and a Temporal server at TEMPORAL_ADDRESS, e.g.:
//   bash scripts/ensure-temporal.sh --start --port 7308 --headless
//   TEMPORAL_ADDRESS=127.0.0.1:7308 npx tsx bench/http-source.ts
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { httpSource } from '../src/connectors/http/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import type { Cursor } from '../src/core/types.js';
import { createHarness } from '../test/support/harness.js';
import { startFaultServer } from '../test/support/http-fault-server.js';

const N = Number(process.env.BENCH_HTTP_RECORDS ?? 20_000);
const PAGE = Number(process.env.BENCH_HTTP_PAGE ?? 500);

const api = await startFaultServer();
api.put(
  'customers',
  Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `Customer ${i + 1}`, email: `c${i + 1}@example.com`, score: i % 100, city: 'Lisbon', updated_at: new Date(Date.UTC(2026, 0, 1) + i * 10).toISOString() })),
);
const source = () =>
  httpSource({ baseUrl: api.url, system: 'crm', path: '/customers', records: 'data.items', pagination: { type: 'link', sizeParam: 'limit' }, incremental: { param: 'updated_since', field: 'updated_at' } });

// 1. the connector alone
const alone = source();
let cursor: Cursor | null = null;
let read = 0;
let pages = 0;
const t0 = performance.now();
for (;;) {
  const page = await alone.fetch({ shape: { stream: 'bench', key: ['id'] }, after: cursor, limit: PAGE, mode: 'incremental', rewind: false });
  read += page.rows.length;
  pages += 1;
  cursor = page.next;
  if (page.done) break;
}
const aloneMs = performance.now() - t0;
console.log(`connector alone: ${read} records in ${pages} requests, ${(aloneMs / 1000).toFixed(2)} s, ${Math.round(read / (aloneMs / 1000))} records/s`);

// 2. a real run
const h = await createHarness('bench_http');
try {
  await h.db.pool.query(`create table bench_http (id bigserial primary key, record_id text unique not null, name text, email text, score int, city text, updated_at text)`);
  const stream = h.name('bench.http');
  await h.startWorker([
    defineStream({
      name: stream,
      source: source(),
      schema: z.object({ id: z.string(), name: z.string(), email: z.string(), score: z.number(), city: z.string(), updated_at: z.string() }),
      map: (r) => ({ kind: 'c', fields: { record_id: r.id, name: r.name, email: r.email, score: r.score, city: r.city, updated_at: r.updated_at } }),
      target: postgresTarget({ url: h.db.url, table: 'bench_http', key: 'record_id', idColumn: 'id', system: 'app' }),
      key: 'id',
      batchSize: PAGE,
    }),
  ]);
  const t1 = performance.now();
  const summary = await h.run({ stream });
  const runMs = performance.now() - t1;
  const { rows } = await h.db.pool.query<{ n: number }>(`select count(*)::int as n from bench_http`);
  console.log(`real run (HTTP -> Postgres through Temporal): ${summary.counts.created} created, ${rows[0]?.n} in the table, ${(runMs / 1000).toFixed(2)} s, ${Math.round(N / (runMs / 1000))} records/s`);
} finally {
  await h.close();
  await api.close();
}
