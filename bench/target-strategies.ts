// Micro-benchmark: how to write one batch of projections into a Postgres target
// in one round of statements, returning B's internal id for each row (what
// PostgresTarget.upsert must return for the bindings):
//   json        the current target: json_populate_recordset in one INSERT … ON CONFLICT (the real code)
//   unnest      one INSERT … SELECT FROM unnest($1::bigint[], $2::text[], …) … ON CONFLICT
//   copy-temp   BEGIN; CREATE TEMP TABLE … ON COMMIT DROP; COPY … FROM STDIN; INSERT … SELECT … ON CONFLICT; COMMIT
// Each is timed per batch into an empty table (inserts) and again over the same
// keys (all conflicts: updates), strategies interleaved in rotated order.
//
// Standalone: npx tsx bench/target-strategies.ts (own database; needs only Postgres).
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import type { TargetRow } from '../src/connectors/target.js';
import { createTestDatabase } from '../test/support/database.js';
import { median } from './stats.js';
import { TARGET_COLUMNS, createTargetTable } from './tables.js';

type Fields = Record<string, unknown>;
type Upsert = (rows: readonly Fields[]) => Promise<(string | null)[]>;

export interface StrategyResult {
  strategy: string;
  /** median ms per batch */
  insertMs: number;
  updateMs: number;
  insertRowsPerSec: number;
  updateRowsPerSec: number;
  insertSamples: number[];
  updateSamples: number[];
}

export interface StrategiesResults {
  batch: number;
  batches: number;
  repeat: number;
  results: StrategyResult[];
}

const TABLE = 'strat_dst';
const TYPES: Record<(typeof TARGET_COLUMNS)[number], string> = {
  src_id: 'bigint',
  email: 'text',
  first_name: 'text',
  last_name: 'text',
  country: 'text',
  city: 'text',
  score: 'integer',
  balance: 'numeric',
  active: 'boolean',
  created_at: 'timestamptz',
  source_updated_at: 'timestamptz',
};
const COLS = TARGET_COLUMNS.join(', ');
const UPDATES = TARGET_COLUMNS.filter((c) => c !== 'src_id').map((c) => `${c} = excluded.${c}`).join(', ');

/** Projection fields as the bench stream's map makes them (pg's text forms for int8, numeric, timestamps). */
function makeRows(from: number, count: number, round: number): Fields[] {
  const rows: Fields[] = [];
  for (let g = from; g < from + count; g += 1) {
    rows.push({
      src_id: String(g),
      email: `customer.${g}@example.com`,
      first_name: ['Anna', 'Boris', 'Chen', 'Dana'][g % 4],
      last_name: `Lastname-${(g * 7919) % 100000}`,
      country: ['DE', 'RU', 'FR', 'PL'][g % 4],
      city: `City ${g % 5000}`,
      score: ((g * 31) % 1000) + round,
      balance: (((g * 104729) % 1000000) / 100).toFixed(2),
      active: g % 3 !== 0,
      created_at: `2025-01-01 00:00:${String(g % 60).padStart(2, '0')}+00`,
      source_updated_at: `2026-01-01 00:00:00.${String(g % 1000000).padStart(6, '0')}+00`,
    });
  }
  return rows;
}

function idsByOrdinal(count: number, written: { ord: number; id: string }[]): (string | null)[] {
  const ids = new Array<string | null>(count).fill(null);
  for (const w of written) ids[w.ord - 1] = w.id;
  return ids;
}

function jsonStrategy(url: string): { upsert: Upsert; close: () => Promise<void> } {
  const target = postgresTarget({ url, table: TABLE, key: 'src_id', idColumn: 'id', system: 'bench' });
  return {
    upsert: async (rows) => (await target.upsert(rows.map((fields): TargetRow => ({ key: [String(fields.src_id)], internalId: null, op: 'create', version: '1', projection: { kind: 'row', fields } })), { stream: 'bench', runId: 'bench' })).ids,
    close: () => target.close(),
  };
}

function unnestStrategy(pool: pg.Pool): Upsert {
  const params = TARGET_COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(', ');
  const text = `with i as (
      select * from unnest(${params}) with ordinality as u(${COLS}, ord)
    ), w as (
      insert into ${TABLE} (${COLS}) select ${COLS} from i
      on conflict (src_id) do update set ${UPDATES}
      returning src_id, id
    )
    select i.ord::int as ord, w.id::text as id from w join i on w.src_id = i.src_id`;
  return async (rows) => {
    const columns = TARGET_COLUMNS.map((c) => rows.map((r) => r[c] ?? null));
    const { rows: written } = await pool.query<{ ord: number; id: string }>(text, columns);
    return idsByOrdinal(rows.length, written);
  };
}

/** COPY text format: \N for null; backslash, tab, newline, carriage return escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

function copyTempStrategy(pool: pg.Pool): Upsert {
  const defs = TARGET_COLUMNS.map((c) => `${c} ${TYPES[c]}`).join(', ');
  // The temp table has no statistics: joining RETURNING back to it can pick a
  // nested loop, so ids are matched to rows by key in JS instead.
  const insert = `insert into ${TABLE} (${COLS}) select ${COLS} from ferry_stage
      on conflict (src_id) do update set ${UPDATES}
      returning src_id::text as key, id::text as id`;
  return async (rows) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`create temp table ferry_stage (${defs}) on commit drop`);
      const lines = rows.map((r) => `${TARGET_COLUMNS.map((c) => copyValue(r[c])).join('\t')}\n`);
      // one chunk per ~1000 rows: fewer, larger writes
      const chunks: string[] = [];
      for (let i = 0; i < lines.length; i += 1000) chunks.push(lines.slice(i, i + 1000).join(''));
      await pipeline(Readable.from(chunks), client.query(copyFrom(`copy ferry_stage (${COLS}) from stdin`)));
      const { rows: written } = await client.query<{ key: string; id: string }>(insert);
      await client.query('commit');
      const byKey = new Map(written.map((w) => [w.key, w.id]));
      return rows.map((r) => byKey.get(String(r.src_id)) ?? null);
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };
}

export async function runTargetStrategies(
  url: string,
  options: { batch: number; batches: number; repeat: number; log?: (m: string) => void },
): Promise<StrategiesResults> {
  const log = options.log ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const json = jsonStrategy(url);
  const strategies: [string, Upsert][] = [
    ['json_populate_recordset (current)', json.upsert],
    ['unnest arrays', unnestStrategy(pool)],
    ['COPY into temp table + INSERT … SELECT', copyTempStrategy(pool)],
  ];
  const samples = new Map(strategies.map(([name]) => [name, { insert: [] as number[], update: [] as number[] }]));
  try {
    await createTargetTable(pool, TABLE);
    // warm up every path once (plans, connections, type parsers)
    for (const [, upsert] of strategies) {
      await pool.query(`truncate ${TABLE} restart identity`);
      await upsert(makeRows(1, 100, 0));
    }
    for (let rep = 0; rep < options.repeat; rep += 1) {
      for (let k = 0; k < strategies.length; k += 1) {
        const [name, upsert] = strategies[(k + rep) % strategies.length] as [string, Upsert];
        const s = samples.get(name) as { insert: number[]; update: number[] };
        await pool.query(`truncate ${TABLE} restart identity`);
        await pool.query('checkpoint');
        for (const phase of ['insert', 'update'] as const) {
          for (let b = 0; b < options.batches; b += 1) {
            const rows = makeRows(1 + b * options.batch, options.batch, phase === 'insert' ? 0 : rep + 1);
            const t0 = performance.now();
            const ids = await upsert(rows);
            s[phase].push(performance.now() - t0);
            if (ids.length !== rows.length || ids.some((id) => id === null)) throw new Error(`${name}: missing ids`);
          }
        }
        log(`strategy ${name} #${rep + 1}: insert ${median(s.insert.slice(-options.batches)).toFixed(0)} ms, update ${median(s.update.slice(-options.batches)).toFixed(0)} ms per ${options.batch} rows`);
      }
    }
  } finally {
    await json.close();
    await pool.end();
  }
  const results = strategies.map(([name]): StrategyResult => {
    const s = samples.get(name) as { insert: number[]; update: number[] };
    const insertMs = median(s.insert);
    const updateMs = median(s.update);
    return { strategy: name, insertMs, updateMs, insertRowsPerSec: options.batch / (insertMs / 1000), updateRowsPerSec: options.batch / (updateMs / 1000), insertSamples: s.insert, updateSamples: s.update };
  });
  return { batch: options.batch, batches: options.batches, repeat: options.repeat, results };
}

// standalone
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const db = await createTestDatabase('strategies');
  try {
    const r = await runTargetStrategies(db.url, {
      batch: Number(process.env.BENCH_STRATEGY_BATCH ?? 10_000),
      batches: Number(process.env.BENCH_STRATEGY_BATCHES ?? 10),
      repeat: Number(process.env.BENCH_STRATEGY_REPEAT ?? 3),
      log: (m) => process.stderr.write(`${m}\n`),
    });
    for (const x of r.results) console.log(`${x.strategy}: insert ${x.insertMs.toFixed(1)} ms (${Math.round(x.insertRowsPerSec)} rows/s), update ${x.updateMs.toFixed(1)} ms (${Math.round(x.updateRowsPerSec)} rows/s)`);
  } finally {
    await db.drop();
  }
}
