// Micro-benchmark of the Postgres target's write path alone (no Temporal, no
// state store): OTHER_TARGET=<path to another checkout's target.ts> compares
// it with this checkout's. Rows shaped as the bench's target table.
//   npx tsx bench/target-write.ts            (BENCH_ROWS, BENCH_BATCH, BENCH_REPEAT)
import pg from 'pg';
import type { Target } from '../src/connectors/target.js';
import { survivesCutConnections } from '../src/connectors/postgres/pool.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { createTargetTable } from './tables.js';

const ADMIN = process.env.FERRY_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const batch = Number(process.env.BENCH_BATCH ?? 5_000);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);

const projections = Array.from({ length: rows }, (_, i) => ({
  key: [String(i + 1)],
  internalId: null,
  op: 'create' as const,
  version: '1',
  projection: {
    kind: 'row',
    fields: {
      src_id: String(i + 1),
      email: `customer.${i}@example.com`,
      first_name: 'Anna',
      last_name: `Lastname-${(i * 7919) % 100000}`,
      country: 'DE',
      city: `City ${i % 5000}`,
      score: (i * 31) % 1000,
      balance: ((i * 104729) % 1000000 / 100).toFixed(2),
      active: i % 3 !== 0,
      created_at: '2025-01-01 00:00:00+00',
      source_updated_at: `2026-01-01 00:00:${String(i % 60).padStart(2, '0')}.${String(i % 999999).padStart(6, '0')}+00`,
    },
  },
}));

async function time(target: Target, pool: pg.Pool, table: string): Promise<number> {
  await pool.query(`truncate ${table}`);
  const start = performance.now();
  for (let i = 0; i < rows; i += batch) {
    const result = await target.upsert(projections.slice(i, i + batch), { stream: 'bench.write', runId: 'bench' });
    if (result.rejected.length) throw new Error(`rejected: ${result.rejected[0]?.message}`);
  }
  return performance.now() - start;
}

const name = `ferry_bench_write_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
await admin.query(`create database ${name}`);
const url = ADMIN.replace(/\/[^/]*$/, `/${name}`);
const pool = new pg.Pool({ connectionString: url });
survivesCutConnections(pool);
try {
  await createTargetTable(pool, 'bench_dst');
  const candidates: [string, Target][] = [['this checkout', postgresTarget({ url, table: 'bench_dst', key: 'src_id', idColumn: 'id', system: 'bench' })]];
  if (process.env.OTHER_TARGET) {
    const other = (await import(process.env.OTHER_TARGET)) as { postgresTarget: typeof postgresTarget };
    candidates.push(['other', other.postgresTarget({ url, table: 'bench_dst', key: 'src_id', idColumn: 'id', system: 'bench' })]);
  }
  const times = new Map<string, number[]>(candidates.map(([label]) => [label, []]));
  for (let r = 0; r < repeat; r += 1) {
    for (const [label, target] of candidates) times.get(label)?.push(await time(target, pool, 'bench_dst'));
  }
  for (const [label, list] of times) {
    const median = [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
    console.log(`${label}: ${rows} rows in batches of ${batch}: median ${median.toFixed(0)} ms (${Math.round(rows / (median / 1000))} rows/s; runs ${list.map((t) => t.toFixed(0)).join(', ')})`);
  }
  for (const [, target] of candidates) await target.close();
} finally {
  await pool.end();
  await admin.query(`drop database ${name} with (force)`);
  await admin.end();
}
