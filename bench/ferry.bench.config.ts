// The bench's stream (FERRY_CONFIG for the bench worker): BENCH_SOURCE -> BENCH_TARGET,
// both in DATABASE_URL (the bench's own database). One PG -> PG stream of ~10
// columns, timestamp cursor, zod schema and a light mapping, as a user would write it.
import { z } from 'zod';
import { defineConfig, defineStream, postgresSource, postgresTarget } from '../src/index.js';
import { databaseUrl } from '../src/state/db.js';

const url = databaseUrl();
const source = process.env.BENCH_SOURCE ?? 'bench_src';
const target = process.env.BENCH_TARGET ?? 'bench_dst';

const row = z.object({
  id: z.string().regex(/^\d+$/),
  email: z.email(),
  first_name: z.string().min(1),
  last_name: z.string().min(1),
  country: z.string().length(2),
  city: z.string(),
  score: z.number().int(),
  balance: z.string().regex(/^-?\d+(\.\d+)?$/),
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const bench = defineStream({
  name: process.env.BENCH_STREAM ?? 'bench.pg2pg',
  source: postgresSource({ url, table: source, system: 'bench', cursor: { column: 'updated_at', kind: 'timestamp' } }),
  schema: row,
  map: (r) => ({
    kind: 'row',
    fields: {
      src_id: r.id,
      email: r.email.toLowerCase(),
      first_name: r.first_name,
      last_name: r.last_name,
      country: r.country,
      city: r.city,
      score: r.score,
      balance: r.balance,
      active: r.active,
      created_at: r.created_at,
      source_updated_at: r.updated_at,
    },
  }),
  target: postgresTarget({ url, table: target, key: 'src_id', idColumn: 'id', system: 'app' }),
  key: 'id',
  // Overridden per run by the bench (SyncStreamInput.batchSize).
  batchSize: 10_000,
});

export default defineConfig({ streams: [bench] });
