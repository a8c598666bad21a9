// npm run bench (scripts/bench.sh starts Temporal and runs this file).
//
// PG -> PG through a real ferry worker (a child process, as in production),
// beside psql COPY … TO STDOUT | COPY … FROM STDIN between the same tables:
//   sweep       batch sizes (full load + 10K incremental each), picks the fastest
//   main        per repetition: COPY baseline, full load (BENCH_PARTITIONS partitions),
//               10K-row incremental (and its COPY+upsert baseline), no-change run; and,
//               in its own fresh worker, the same full load unpartitioned (partitions: 1);
//               and, in the same repetition (order rotated), each installed peer: Sling and
//               dlt (bench/peers/): full load into a fresh table, then the same 10K change
//               and an incremental run; every tool's target checked by count + md5 (rep 1)
//   workers     ferry's full load with 2 and 3 worker processes on the same task queue
//   rss         full load of a small table, to compare the worker's peak RSS with the big one
//   strategies  target write strategies for one batch (bench/target-strategies.ts)
// Writes bench/REPORT.md and .ferry/bench/results.json.
//
// Environment (defaults in brackets):
//   BENCH_ROWS [1000000]  BENCH_REPEAT [3]  BENCH_CHANGED [10000]
//   BENCH_SWEEP [5000,10000,20000]  BENCH_SWEEP_ROWS [BENCH_ROWS, at most 1000000]  BENCH_SWEEP_REPEAT [1]
//   BENCH_BATCH [fastest of the sweep]  BENCH_SMALL_ROWS [100000]
//   BENCH_STRATEGY_BATCH [10000]  BENCH_STRATEGY_BATCHES [10]  BENCH_STRATEGY_REPEAT [3]
//   BENCH_PHASES [sweep,main,workers,rss,strategies]  BENCH_REPORT [bench/REPORT.md]
//   BENCH_PARTITIONS [4: `partitions` of every ferry full load (SyncStreamInput), sweep, main, workers
//     and rss alike; the main phase also runs the full load with 1 (skipped when this is 1)]
//   BENCH_UNPARTITIONED [1; 0 leaves out the unpartitioned full load of the main phase, e.g. for a 10M-row run]
//   BENCH_PEERS [sling,dlt; also dlt-defaults (slow: ~15× dlt's fastest); none]
//   BENCH_PEERS_STATUS [.ferry/bench-venv/peers.json, written by scripts/ensure-bench-peers.sh]
//   BENCH_WORKERS [2,3: worker-process counts of the workers phase; 1 is the main full load]
//   BENCH_WORKERS_REPEAT [BENCH_REPEAT]
//   BENCH_CPU_PROF [unset: a directory to write the workers' --cpu-prof profiles to]
//   BENCH_WORKER_NODE_FLAGS [unset: extra node flags for the worker, e.g. --max-old-space-size=192]
//   BENCH_VARIANTS [unset: name=/path/to/checkout,… — A/B: every main repetition also runs the
//     full/incremental/no-change cycle with a worker from each of these checkouts (their own
//     src/ and, if they built one, .ferry/bench/workflow-bundle.js), in rotated order; the
//     report gets a "Variants" table. Measures a change against this checkout under the same load.]
//   TEMPORAL_ADDRESS [127.0.0.1:7253]  FERRY_WORKFLOW_BUNDLE  FERRY_TEST_ADMIN_URL
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { DATABASE_BATCH_SIZE } from '../src/connectors/source.js';
import { connectClient } from '../src/temporal.js';
import { createStateDb } from '../src/state/db.js';
import { migrateToLatest } from '../src/state/migrate.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { createTestDatabase, type TestDatabase } from '../test/support/database.js';
import { repoRoot } from '../test/support/harness.js';
import { copyFull, copyUpsert } from './baseline.js';
import { startCpuMeter, type CpuUsage } from './cpu-usage.js';
import { loadPeers, PEER_NAMES, type MissingPeer, type Peer, type PeerName } from './peers/peers.js';
import { runHistory, type RunHistory } from './history.js';
import { writeReport, type BenchResults, type ContentCheck, type PeerReport, type RunRecord } from './report.js';
import { median } from './stats.js';
import { TARGET_COLUMNS, changeRows, contentHash, createSourceTable, createTargetTable, emptyTarget, ferryStateTables, resetFerryState, sourceHash } from './tables.js';
import { runTargetStrategies } from './target-strategies.js';
import { WorkerProcess, type MemoryReading } from './worker-process.js';

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return n;
};
const list = (name: string, fallback: number[]): number[] => {
  const raw = process.env[name];
  return raw ? raw.split(',').map((x) => Number(x.trim().replace(/_/g, ''))).filter((x) => Number.isInteger(x) && x > 0) : fallback;
};

const ROWS = int('BENCH_ROWS', 1_000_000);
const REPEAT = int('BENCH_REPEAT', 3);
const CHANGED = Math.min(int('BENCH_CHANGED', 10_000), ROWS);
const SWEEP = list('BENCH_SWEEP', [5_000, 10_000, 20_000]);
const SWEEP_ROWS = int('BENCH_SWEEP_ROWS', Math.min(ROWS, 1_000_000));
const SWEEP_REPEAT = int('BENCH_SWEEP_REPEAT', 1);
const SMALL_ROWS = int('BENCH_SMALL_ROWS', 100_000);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'sweep,main,workers,rss,strategies').split(',').map((s) => s.trim()));
const WANTED_PEERS: PeerName[] = (process.env.BENCH_PEERS ?? 'sling,dlt')
  .split(',')
  .map((x) => x.trim())
  .filter((x) => x && x !== 'none')
  .map((x) => {
    if (!(PEER_NAMES as readonly string[]).includes(x)) throw new Error(`BENCH_PEERS: unknown peer "${x}" (known: ${PEER_NAMES.join(', ')}, none)`);
    return x as PeerName;
  });
const PEERS_STATUS = path.resolve(repoRoot, process.env.BENCH_PEERS_STATUS ?? '.ferry/bench-venv/peers.json');
const WORKERS = list('BENCH_WORKERS', [2, 3]).filter((n) => n > 1);
const WORKERS_REPEAT = int('BENCH_WORKERS_REPEAT', REPEAT);
const PARTITIONS = int('BENCH_PARTITIONS', 4);
const REPORT = path.resolve(repoRoot, process.env.BENCH_REPORT ?? 'bench/REPORT.md');
const CPU_PROF = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7253';
const STREAM = 'bench.pg2pg';
const TASK_QUEUE = `ferry-bench-${randomBytes(3).toString('hex')}`;
const OUT_DIR = path.join(repoRoot, '.ferry', 'bench');

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

interface World {
  db: TestDatabase;
  client: Client;
  /** every content check made, for the report */
  checks: ContentCheck[];
}

/**
 * Compares a tool's target with the source (count + md5 over the 11 columns, the same
 * canonical form for every tool) and records the result. Returns whether they match.
 */
async function check(world: World, tool: string, after: string, relation: string, columns: readonly string[]): Promise<boolean> {
  const s = await sourceHash(world.db.pool, 'bench_src');
  const t = await contentHash(world.db.pool, relation, columns);
  const ok = s.rows === t.rows && s.md5 === t.md5;
  world.checks.push({ tool, after, sourceRows: s.rows, targetRows: t.rows, ok, md5: t.md5 });
  log(`check ${tool} after ${after}: ${ok ? 'target equals source' : 'TARGET DIFFERS from source'} (${t.rows} rows, source ${s.rows}; md5 ${t.md5.slice(0, 8)}${ok ? '' : ` vs ${s.md5.slice(0, 8)}`})`);
  return ok;
}

/** Bytes on disk (tables, indexes, TOAST, dead rows included) of ferry's state store and of the target. */
async function footprint(world: World, target: string): Promise<{ stateBytes: number; targetBytes: number }> {
  const { rows } = await world.db.pool.query<{ state: string | null; target: string }>(
    `select (select sum(pg_total_relation_size(t::regclass)) from unnest($2::text[]) t) as state, pg_total_relation_size($1::regclass) as target`,
    [target, await ferryStateTables(world.db.pool)],
  );
  return { stateBytes: Number(rows[0]?.state ?? 0), targetBytes: Number(rows[0]?.target ?? 0) };
}

/** Runs `work` while measuring the peak memory of every worker (each one's measure() nested in the next). */
async function measureAll<T>(workers: readonly WorkerProcess[], work: () => Promise<T>): Promise<{ value: T; memories: MemoryReading[] }> {
  const [first, ...rest] = workers;
  if (!first) return { value: await work(), memories: [] };
  const { value, memory } = await first.measure(() => measureAll(rest, work));
  return { value: value.value, memories: [memory, ...value.memories] };
}

async function checkpoint(db: TestDatabase): Promise<void> {
  // Start every timed run with clean shared buffers' dirty state, baseline and ferry alike.
  await db.pool.query('checkpoint');
}

interface Variant {
  name: string;
  root: string;
}

const VARIANTS: Variant[] = (process.env.BENCH_VARIANTS ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean)
  .map((x) => {
    const [name, dir] = x.split('=');
    if (!name || !dir) throw new Error(`BENCH_VARIANTS: expected name=/path, got "${x}"`);
    return { name, root: path.resolve(dir) };
  });

async function startWorker(world: World, source: string, target: string, label: string, variant?: Variant): Promise<WorkerProcess> {
  const root = variant?.root ?? repoRoot;
  const env: Record<string, string> = {
    DATABASE_URL: world.db.url,
    TEMPORAL_ADDRESS,
    FERRY_TASK_QUEUE: TASK_QUEUE,
    // a variant's worker loads the config from its own checkout, so the stream uses its connectors
    FERRY_CONFIG: path.join(root, 'bench', 'ferry.bench.config.ts'),
    BENCH_SOURCE: source,
    BENCH_TARGET: target,
    BENCH_STREAM: STREAM,
    FERRY_LOG_LEVEL: 'info',
    // the metrics endpoints are not what is measured (and two workers would compete for their ports)
    FERRY_METRICS_PORT: 'off',
    FERRY_SDK_METRICS_PORT: 'off',
  };
  if (variant) {
    const bundle = path.join(root, '.ferry', 'bench', 'workflow-bundle.js');
    if (existsSync(bundle)) env.FERRY_WORKFLOW_BUNDLE = bundle;
  } else if (process.env.FERRY_WORKFLOW_BUNDLE) env.FERRY_WORKFLOW_BUNDLE = process.env.FERRY_WORKFLOW_BUNDLE;
  const nodeFlags = [
    ...(process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=worker-${label}-${Date.now()}.cpuprofile`] : []),
  ];
  const worker = await WorkerProcess.start({ cwd: root, env, logFile: path.join(OUT_DIR, variant ? `worker-${variant.name}.log` : 'worker.log'), nodeFlags });
  // let start-up allocations settle before the first measurement
  await new Promise((r) => setTimeout(r, 1000));
  return worker;
}

async function ferryRun(
  world: World,
  workers: WorkerProcess | readonly WorkerProcess[],
  scenario: RunRecord['scenario'],
  rep: number,
  batchSize: number,
  rows: number,
  /** first loads only: how many partitions the run asks for (unset: the stream's own setting) */
  partitions?: number,
): Promise<RunRecord> {
  const all = Array.isArray(workers) ? (workers as readonly WorkerProcess[]) : [workers as WorkerProcess];
  await checkpoint(world.db);
  const idleRss = Math.max(...(await Promise.all(all.map((w) => w.rss()))));
  const meter = await startCpuMeter(all.map((w) => w.pid));
  const { value, memories } = await measureAll(all, async () => {
    const t0 = performance.now();
    const handle = await world.client.workflow.start<typeof syncStream>('syncStream', {
      workflowId: STREAM,
      taskQueue: TASK_QUEUE,
      args: [{ stream: STREAM, batchSize, ...(partitions === undefined ? {} : { partitions }) }],
    });
    const summary: RunSummary = await handle.result();
    return { summary, wallMs: performance.now() - t0, firstRunId: handle.firstExecutionRunId };
  });
  const cpu = await meter.stop();
  // the first worker's reading, or the one with the highest peak when there are several
  const memory = [...memories].sort((a, b) => b.hwm - a.hwm)[0] as MemoryReading;
  const history: RunHistory = await runHistory(world.client, STREAM, value.firstRunId);
  if (value.summary.status !== 'succeeded') throw new Error(`${scenario} run ended ${value.summary.status}: ${value.summary.message ?? ''}`);
  const record: RunRecord = {
    scenario,
    rep,
    batchSize,
    tableRows: rows,
    records: value.summary.records,
    written: value.summary.counts.created + value.summary.counts.updated,
    batches: value.summary.batches,
    wallMs: value.wallMs,
    idleRss,
    peakRss: memory.hwm,
    sampledPeakRss: memory.sampledPeak,
    rssByDecile: memory.byDecile,
    history,
    cpu,
    ...(partitions === undefined ? {} : { partitions }),
    ...(all.length > 1 ? { workers: all.length, workerPeakRss: memories.map((m) => m.hwm) } : {}),
    ...(scenario === 'full' || scenario === 'full-unpartitioned' || scenario === 'workers-full' ? await footprint(world, 'bench_dst') : {}),
  };
  log(
    `${scenario} #${rep} batch ${batchSize}: ${record.records} records, ${record.written} written in ${(record.wallMs / 1000).toFixed(2)} s ` +
      `(${Math.round(record.records / (record.wallMs / 1000))} rows/s), peak RSS ${Math.round(record.peakRss / 1048576)} MiB, ${history.events} events / ${history.executions} executions` +
      (partitions === undefined ? '' : `, ${partitions} partition(s) asked, ${history.childWorkflows ?? 0} child workflow(s)`) +
      `, ${cpuText(cpu)}`,
  );
  return record;
}

/** CPU seconds of a run, for the log line. */
const cpuText = (cpu: CpuUsage) => {
  const threads = Object.entries(cpu.workerThreads)
    .filter(([, seconds]) => seconds >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`);
  return (
    `CPU ${cpu.busy.toFixed(1)} s busy (worker ${cpu.worker.toFixed(1)}${threads.length ? ` [${threads.join(', ')}]` : ''}, ` +
    `postgres ${cpu.postgres.toFixed(1)}, temporal ${cpu.temporal.toFixed(1)})`
  );
};

async function baselineRun(world: World, scenario: RunRecord['scenario'], rep: number, rows: number, work: () => Promise<{ wallMs: number; peakRss: number }>): Promise<RunRecord> {
  await checkpoint(world.db);
  const meter = await startCpuMeter([]);
  const { wallMs, peakRss } = await work();
  const cpu = await meter.stop();
  log(`${scenario} #${rep}: ${rows} rows in ${(wallMs / 1000).toFixed(2)} s (${Math.round(rows / (wallMs / 1000))} rows/s), peak RSS ${Math.round(peakRss / 1048576)} MiB, ${cpuText(cpu)}`);
  return { scenario, tool: 'copy', rep, batchSize: 0, tableRows: rows, records: rows, written: rows, batches: 0, wallMs, idleRss: 0, peakRss, sampledPeakRss: peakRss, cpu };
}

/**
 * One peer's repetition: full load into a fresh table, then CHANGED rows changed in
 * the source and the peer's incremental run; checked against the source when `verify`.
 */
async function peerCycle(world: World, peer: Peer, rows: number, rep: number, verify: boolean): Promise<RunRecord[]> {
  const record = async (scenario: RunRecord['scenario'], records: number, work: () => Promise<{ wallMs: number; peakRss: number; written: number }>): Promise<RunRecord> => {
    const meter = await startCpuMeter([]);
    const r = await work();
    const cpu = await meter.stop();
    log(
      `${peer.name} ${scenario} #${rep}: ${records} rows (tool says ${r.written} written) in ${(r.wallMs / 1000).toFixed(2)} s ` +
        `(${Math.round(records / (r.wallMs / 1000))} rows/s), peak RSS ${Math.round(r.peakRss / 1048576)} MiB, ${cpuText(cpu)}`,
    );
    return { scenario, tool: peer.name, rep, batchSize: 0, tableRows: rows, records, written: r.written, batches: 0, wallMs: r.wallMs, idleRss: 0, peakRss: r.peakRss, sampledPeakRss: r.peakRss, cpu };
  };
  await peer.reset(world.db.pool);
  await checkpoint(world.db);
  const out = [await record('peer-full', rows, () => peer.full())];
  if (verify) await check(world, peer.name, 'full load', peer.relation, peer.columns);
  // as for ferry: the state autovacuum would have left before a later run
  await world.db.pool.query(`vacuum (analyze) ${peer.relation}, bench_src`);
  const changed = await changeRows(world.db.pool, 'bench_src', rows, CHANGED, rep);
  await checkpoint(world.db);
  const inc = await record('peer-incremental', changed, () => peer.incremental());
  if (inc.written !== changed) log(`warning: ${changed} rows changed but ${peer.name} says ${inc.written} written`);
  out.push(inc);
  if (verify) await check(world, peer.name, `${changed}-row incremental`, peer.relation, peer.columns);
  return out;
}

/** ferry's full load without partitions (partitions: 1), in a fresh worker: the row beside the partitioned headline. */
async function unpartitionedFullLoad(world: World, rep: number, batchSize: number, verify: boolean): Promise<RunRecord> {
  await emptyTarget(world.db.pool, 'bench_dst');
  await resetFerryState(world.db.pool);
  const worker = await startWorker(world, 'bench_src', 'bench_dst', `unpartitioned-${rep}`);
  try {
    const record = await ferryRun(world, worker, 'full-unpartitioned', rep, batchSize, ROWS, 1);
    if (verify) await check(world, 'ferry', 'full load (1 partition)', 'bench_dst', TARGET_COLUMNS);
    return record;
  } finally {
    await worker.stop();
  }
}

async function maxUpdated(world: World, source: string): Promise<string> {
  const { rows } = await world.db.pool.query<{ t: string }>(`select max(updated_at)::text as t from ${source}`);
  return rows[0]?.t ?? '-infinity';
}

/** Full load + incremental + no-change (+ baselines when asked) with one fresh worker. */
async function cycle(
  world: World,
  opts: { source: string; rows: number; rep: number; batchSize: number; baselines: boolean; incremental: boolean; label: string; verify: boolean; variant?: Variant; partitions?: number },
): Promise<RunRecord[]> {
  const { source, rows, rep, batchSize } = opts;
  const target = 'bench_dst';
  const out: RunRecord[] = [];
  if (opts.baselines) {
    await emptyTarget(world.db.pool, target);
    out.push(await baselineRun(world, 'copy-full', rep, rows, () => copyFull(world.db.url, source, target)));
    if (opts.verify) await check(world, 'copy', 'full load', target, TARGET_COLUMNS);
  }
  await emptyTarget(world.db.pool, target);
  await resetFerryState(world.db.pool);
  const worker = await startWorker(world, source, target, `${opts.label}-${rep}`, opts.variant);
  try {
    const scenario = ({ rss: 'full-small', 'rss-defaults': 'full-defaults', sweep: 'sweep-full' } as const)[opts.label] ?? 'full';
    const partitions = opts.partitions ?? PARTITIONS;
    out.push(await ferryRun(world, worker, scenario, rep, batchSize, rows, partitions));
    if (opts.verify) await check(world, 'ferry', `full load (${partitions} partition${partitions === 1 ? '' : 's'})`, target, TARGET_COLUMNS);
    if (opts.incremental) {
      // The incremental stands for a later run: give the tables the state autovacuum would
      // have given them by then (hint bits, visibility map, statistics), for ferry and the
      // COPY baseline alike, instead of racing autovacuum right after a bulk load.
      await world.db.pool.query(`vacuum (analyze) ${[target, source, ...(await ferryStateTables(world.db.pool))].join(', ')}`);
      const since = await maxUpdated(world, source);
      const changed = await changeRows(world.db.pool, source, rows, CHANGED, rep);
      const inc = await ferryRun(world, worker, opts.label === 'sweep' ? 'sweep-incremental' : 'incremental', rep, batchSize, rows);
      if (inc.written !== changed) log(`warning: ${changed} rows changed but ${inc.written} written`);
      out.push(inc);
      if (opts.verify) await check(world, 'ferry', `${changed}-row incremental`, target, TARGET_COLUMNS);
      if (opts.baselines) out.push(await baselineRun(world, 'copy-upsert-10k', rep, changed, () => copyUpsert(world.db.url, source, target, since)));
      if (opts.label !== 'sweep') out.push(await ferryRun(world, worker, 'no-change', rep, batchSize, rows));
    }
  } finally {
    await worker.stop();
  }
  if (opts.variant) for (const r of out) r.variant = opts.variant.name;
  return out;
}

function versions(): BenchResults['machine'] {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    } catch {
      return '?';
    }
  };
  const pkg = (name: string) => {
    try {
      return (JSON.parse(execFileSync('cat', [path.join(repoRoot, 'node_modules', name, 'package.json')], { encoding: 'utf8' })) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return {
    cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
    cores: os.cpus().length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: os.release(),
    node: process.version,
    postgres: '',
    temporal: sh(process.env.TEMPORAL_BIN ?? 'temporal', ['--version']),
    sdk: pkg('@temporalio/worker'),
    pg: pkg('pg'),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function main(): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  if (CPU_PROF) await mkdir(CPU_PROF, { recursive: true });
  const startedAt = new Date();
  const machine = versions();
  log(`rows ${ROWS}, repeat ${REPEAT}, changed ${CHANGED}, partitions ${PARTITIONS}, sweep ${SWEEP.join('/')} on ${SWEEP_ROWS} rows ×${SWEEP_REPEAT}, phases ${[...PHASES].join(',')}`);

  const db = await createTestDatabase('bench');
  log(`database ${db.name}`);
  const temporal = await connectClient({ address: TEMPORAL_ADDRESS, namespace: 'default', taskQueue: TASK_QUEUE });
  const world: World = { db, client: temporal.client, checks: [] };
  const { peers, missing } = loadPeers(PEERS_STATUS, WANTED_PEERS, { url: db.url, source: 'bench_src', workDir: path.join(OUT_DIR, 'peers') });
  const peerReports = new Map<PeerName, PeerReport>([
    ...peers.map((p): [PeerName, PeerReport] => [p.name, { name: p.name, label: p.label, installed: true }]),
    ...missing.map((m: MissingPeer): [PeerName, PeerReport] => [m.name, { name: m.name, label: m.name, installed: false, reason: m.reason }]),
  ]);
  for (const m of missing) log(`peer ${m.name} not installed: ${m.reason}`);
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    machine,
    settings: {
      rows: ROWS,
      repeat: REPEAT,
      changed: CHANGED,
      sweep: SWEEP,
      sweepRows: SWEEP_ROWS,
      sweepRepeat: SWEEP_REPEAT,
      smallRows: SMALL_ROWS,
      batchSize: 0,
      batchChosenBy: '',
      workers: PHASES.has('workers') ? WORKERS : [],
      workersRepeat: WORKERS_REPEAT,
      partitions: PARTITIONS,
    },
    runs: [],
    strategies: undefined,
    peers: [],
    checks: world.checks,
  };
  try {
    const pgVersion = await db.pool.query<{ v: string }>('select version() as v');
    machine.postgres = (pgVersion.rows[0]?.v ?? '?').split(' on ')[0] ?? '?';
    const settings = await db.pool.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings where name in ('shared_buffers','synchronous_commit','fsync','max_wal_size','wal_level','work_mem')`,
    );
    machine.postgresSettings = settings.rows.map((r) => `${r.name}=${r.setting}${r.unit ?? ''}`).join(', ');

    const state = createStateDb(db.url, 2);
    await migrateToLatest(state);
    await state.destroy();

    const t0 = performance.now();
    await createSourceTable(db.pool, 'bench_src', ROWS);
    if (PHASES.has('rss')) await createSourceTable(db.pool, 'bench_src_small', SMALL_ROWS);
    const sweepSource = SWEEP_ROWS === ROWS ? 'bench_src' : 'bench_src_sweep';
    if (PHASES.has('sweep') && sweepSource !== 'bench_src') await createSourceTable(db.pool, sweepSource, SWEEP_ROWS);
    await createTargetTable(db.pool, 'bench_dst');
    log(`tables ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    let batchSize = process.env.BENCH_BATCH ? int('BENCH_BATCH', 10_000) : 0;
    results.settings.batchChosenBy = batchSize ? 'BENCH_BATCH' : '';

    if (PHASES.has('sweep')) {
      for (let rep = 1; rep <= SWEEP_REPEAT; rep += 1) {
        // rotate the order each repetition so drift in the machine's load spreads over all sizes
        const order = SWEEP.map((_, i) => SWEEP[(i + rep - 1) % SWEEP.length] as number);
        for (const size of order) {
          results.runs.push(...(await cycle(world, { source: sweepSource, rows: SWEEP_ROWS, rep, batchSize: size, baselines: false, incremental: true, label: 'sweep', verify: false })));
        }
      }
      if (!batchSize) {
        const speed = (size: number) => median(results.runs.filter((r) => r.scenario === 'sweep-full' && r.batchSize === size).map((r) => r.records / r.wallMs));
        batchSize = [...SWEEP].sort((a, b) => speed(b) - speed(a))[0] as number;
        results.settings.batchChosenBy = 'fastest median full load in the sweep';
        log(`batch size ${batchSize} chosen (fastest full load in the sweep)`);
      }
    }
    if (!batchSize) {
      batchSize = 10_000;
      results.settings.batchChosenBy = 'default (no sweep)';
    }
    results.settings.batchSize = batchSize;

    if (PHASES.has('main')) {
      for (let rep = 1; rep <= REPEAT; rep += 1) {
        const variants: (Variant | undefined)[] = [undefined, ...VARIANTS];
        // ferry's cycle (with the COPY baselines), its variants and each peer, in an order
        // rotated every repetition so drift in the machine's load spreads over all tools
        const units: (() => Promise<void>)[] = [
          ...variants.map((variant) => async () => {
            // the COPY baselines run once per repetition, with this checkout's cycle
            results.runs.push(...(await cycle(world, { source: 'bench_src', rows: ROWS, rep, batchSize, baselines: !variant, incremental: true, label: 'main', verify: rep === 1, ...(variant ? { variant } : {}) })));
          }),
          // the same full load unpartitioned, its own unit so the rotation spreads it too
          ...(PARTITIONS > 1 && process.env.BENCH_UNPARTITIONED !== '0' ? [async () => void results.runs.push(await unpartitionedFullLoad(world, rep, batchSize, rep === 1))] : []),
          ...peers.map((peer) => async () => {
            const report = peerReports.get(peer.name) as PeerReport;
            if (report.failed) return;
            try {
              results.runs.push(...(await peerCycle(world, peer, ROWS, rep, rep === 1)));
            } catch (err) {
              // a peer that breaks is reported with its error; the bench goes on without it
              report.failed = err instanceof Error ? err.message : String(err);
              log(`peer ${peer.name} failed: ${report.failed}`);
            }
          }),
        ];
        for (let k = 0; k < units.length; k += 1) await (units[(k + rep - 1) % units.length] as () => Promise<void>)();
      }
    }
    if (PHASES.has('workers')) {
      // ferry's full load with several worker processes on one task queue (1 = the main phase)
      for (let rep = 1; rep <= WORKERS_REPEAT; rep += 1) {
        const order = WORKERS.map((_, i) => WORKERS[(i + rep - 1) % WORKERS.length] as number);
        for (const n of order) {
          await emptyTarget(db.pool, 'bench_dst');
          await resetFerryState(db.pool);
          const workers: WorkerProcess[] = [];
          try {
            for (let i = 0; i < n; i += 1) workers.push(await startWorker(world, 'bench_src', 'bench_dst', `workers${n}-${i}-${rep}`));
            results.runs.push(await ferryRun(world, workers, 'workers-full', rep, batchSize, ROWS, PARTITIONS));
          } finally {
            await Promise.all(workers.map((w) => w.stop()));
          }
          if (rep === 1) await check(world, `ferry ×${n} workers`, 'full load', 'bench_dst', TARGET_COLUMNS);
        }
      }
    }
    if (PHASES.has('rss')) {
      for (let rep = 1; rep <= REPEAT; rep += 1) {
        results.runs.push(...(await cycle(world, { source: 'bench_src_small', rows: SMALL_ROWS, rep, batchSize, baselines: false, incremental: false, label: 'rss', verify: false })));
        // what a Postgres stream gets when it sets neither batchSize nor partitions
        const defaults = { batchSize: DATABASE_BATCH_SIZE, partitions: 1 };
        results.runs.push(...(await cycle(world, { source: 'bench_src_small', rows: SMALL_ROWS, rep, ...defaults, baselines: false, incremental: false, label: 'rss-defaults', verify: false })));
      }
    }
    if (PHASES.has('strategies')) {
      results.strategies = await runTargetStrategies(db.url, {
        batch: int('BENCH_STRATEGY_BATCH', 10_000),
        batches: int('BENCH_STRATEGY_BATCHES', 10),
        repeat: int('BENCH_STRATEGY_REPEAT', 3),
        log,
      });
    }
  } finally {
    results.peers = [...peerReports.values()];
    results.finishedAt = new Date().toISOString();
    await writeFile(path.join(OUT_DIR, 'results.json'), JSON.stringify(results, null, 2));
    await temporal.close();
    await db.drop();
  }
  await writeReport(REPORT, results);
  log(`wrote ${path.relative(repoRoot, REPORT)} and .ferry/bench/results.json`);
  const bad = world.checks.filter((c) => !c.ok);
  if (bad.length) {
    // the report is written (it says which); the numbers of a tool that copied wrong mean nothing
    log(`error: ${bad.length} target(s) differ from the source: ${bad.map((c) => `${c.tool} after ${c.after}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
