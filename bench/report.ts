// Turns the bench's results into bench/REPORT.md. Re-render from saved results:
//   npx tsx bench/report.ts .ferry/bench/results.json [bench/REPORT.md]
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CpuUsage } from './cpu-usage.js';
import type { RunHistory } from './history.js';
import { MiB, fmtInt, fmtMiB, fmtMs, fmtPct, fmtRatio, max, median, min, table } from './stats.js';
import type { StrategiesResults } from './target-strategies.js';

export interface RunRecord {
  scenario:
    | 'copy-full'
    | 'copy-upsert-10k'
    | 'full'
    /** the main phase's full load with partitions: 1, beside the partitioned 'full' */
    | 'full-unpartitioned'
    | 'incremental'
    | 'no-change'
    | 'full-small'
    /** the small table with the stream defaults (batch size, 1 partition), for memory */
    | 'full-defaults'
    | 'sweep-full'
    | 'sweep-incremental'
    | 'peer-full'
    | 'peer-incremental'
    | 'workers-full';
  /** unset: ferry; 'copy' for the baselines; a peer's name for peer runs */
  tool?: string;
  rep: number;
  batchSize: number;
  tableRows: number;
  /** records read (ferry) or rows copied (baseline) */
  records: number;
  /** rows created or updated in the target */
  written: number;
  batches: number;
  wallMs: number;
  idleRss: number;
  peakRss: number;
  sampledPeakRss: number;
  /** highest polled RSS in each tenth of the run */
  rssByDecile?: number[];
  /** ferry full loads: the `partitions` the run asked for (SyncStreamInput) */
  partitions?: number;
  /** set for runs of a BENCH_VARIANTS checkout */
  variant?: string;
  history?: RunHistory;
  /** ferry runs with several worker processes: how many, and each one's peak RSS */
  workers?: number;
  workerPeakRss?: number[];
  /** ferry full loads: bytes of the state store's tables and of the target table right after the run */
  stateBytes?: number;
  targetBytes?: number;
  /** CPU seconds the run cost the machine, by process group (bench/cpu-usage.ts) */
  cpu?: CpuUsage;
}

/** A peer as the bench found it: installed (and maybe failed while running) or not installable. */
export interface PeerReport {
  name: string;
  label: string;
  installed: boolean;
  /** why it is not installed */
  reason?: string;
  /** the error that stopped its runs */
  failed?: string;
}

/** One comparison of a tool's target with the source (count + md5 over the 11 columns). */
export interface ContentCheck {
  tool: string;
  after: string;
  sourceRows: number;
  targetRows: number;
  ok: boolean;
  md5: string;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: {
    cpu: string;
    /** logical CPUs (absent in older results) */
    cores?: number;
    memory: string;
    kernel: string;
    node: string;
    postgres: string;
    postgresSettings?: string;
    temporal: string;
    sdk: string;
    pg: string;
    load: string;
  };
  settings: {
    rows: number;
    repeat: number;
    changed: number;
    sweep: number[];
    sweepRows: number;
    sweepRepeat: number;
    smallRows: number;
    batchSize: number;
    batchChosenBy: string;
    workers?: number[];
    workersRepeat?: number;
    /** BENCH_PARTITIONS: what ferry's full loads ask for (absent in older results: none asked) */
    partitions?: number;
  };
  runs: RunRecord[];
  strategies: StrategiesResults | undefined;
  peers?: PeerReport[];
  checks?: ContentCheck[];
}

const R = new Set([1, 2, 3, 4, 5, 6, 7, 8]);
const rate = (r: RunRecord) => (r.records > 0 ? r.records / (r.wallMs / 1000) : Number.NaN);
const writeRate = (r: RunRecord) => (r.written > 0 ? r.written / (r.wallMs / 1000) : Number.NaN);

function pick(results: BenchResults, scenario: RunRecord['scenario'], batchSize?: number): RunRecord[] {
  return results.runs.filter((r) => r.scenario === scenario && !r.variant && (batchSize === undefined || r.batchSize === batchSize));
}

const MB = 1_000_000;
const RSS_AIM = 300 * MB;
const TEN_MILLION = 10_000_000;

/** The issue #12 table: every tool's full load and 10K-changed incremental, side by side. */
function sideBySide(results: BenchResults): string[] {
  const s = results.settings;
  const n = (x: number) => x.toLocaleString('en-US');
  const copyFull = pick(results, 'copy-full');
  const copyRate = median(copyFull.map(rate));
  const wall = (runs: RunRecord[]) => median(runs.map((r) => r.wallMs));
  const row = (label: string, full: RunRecord[], inc: string, rss: number): string[] => [
    label,
    fmtMs(wall(full)),
    fmtInt(median(full.map(rate))),
    fmtRatio(median(full.map(rate)) / copyRate),
    inc,
    fmtMiB(rss),
  ];
  const lines: { rate: number; cells: string[] }[] = [];
  const notRun: string[][] = [];
  for (const peer of results.peers ?? []) {
    const full = results.runs.filter((r) => r.scenario === 'peer-full' && r.tool === peer.name);
    const inc = results.runs.filter((r) => r.scenario === 'peer-incremental' && r.tool === peer.name);
    if (!peer.installed) notRun.push([`${peer.label}: **not installed** (${peer.reason ?? '?'})`, '–', '–', '–', '–', '–']);
    else if (!full.length) notRun.push([`${peer.label}: **failed** (${peer.failed ?? 'no run'})`, '–', '–', '–', '–', '–']);
    else {
      const label = peer.failed ? `${peer.label} (failed after ${full.length} run(s): ${peer.failed})` : peer.label;
      lines.push({ rate: median(full.map(rate)), cells: row(label, full, fmtMs(wall(inc)), median([...full, ...inc].map((r) => r.peakRss))) });
    }
  }
  lines.sort((a, b) => b.rate - a.rate);
  const full = pick(results, 'full');
  const inc = pick(results, 'incremental');
  const copyInc = pick(results, 'copy-upsert-10k');
  const out: string[][] = [];
  if (copyFull.length) out.push(row('`COPY … TO STDOUT \\| COPY … FROM STDIN`', copyFull, `${fmtMs(wall(copyInc))} (COPY + upsert)`, median([...copyFull, ...copyInc].map((r) => r.peakRss))));
  out.push(...lines.map((l) => l.cells));
  if (full.length) {
    const peak = median([...full, ...inc, ...pick(results, 'no-change')].map((r) => r.peakRss));
    out.push(row(`**ferry** (\`ferry run\`, batch ${n(s.batchSize)}, full load ${partitionsOf(full)})`, full, `${fmtMs(wall(inc))} end to end`, peak));
  }
  out.push(...notRun);
  return [
    table(['tool', 'full load', 'rows/s', '× COPY', `${n(s.changed / 1000)}K-changed incremental`, 'peak RSS'], out, new Set([1, 2, 3, 4, 5])),
  ];
}

/** The runs that recorded their CPU (none in results from before bench/cpu-usage.ts). */
const measured = (runs: RunRecord[]) => runs.filter((r): r is RunRecord & { cpu: CpuUsage } => r.cpu !== undefined);

/**
 * CPU seconds per run by process group (runs measured since bench/cpu-usage.ts;
 * none in older results): where a tool's wall goes on a machine whose cores
 * it saturates, and how much of it is Postgres's own work.
 */
function cpuSection(results: BenchResults): string[] {
  const s = results.settings;
  const n = (x: number) => x.toLocaleString('en-US');
  const sec = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} s` : '–');
  const groups: [string, RunRecord[]][] = [
    ['COPY pipe, full load', pick(results, 'copy-full')],
    ...(results.peers ?? []).map((peer): [string, RunRecord[]] => [`${peer.label}, full load`, results.runs.filter((r) => r.scenario === 'peer-full' && r.tool === peer.name)]),
    [`ferry, full load, ${partitionsOf(pick(results, 'full'))}`, pick(results, 'full')],
    [`ferry, full load, ${partitionsOf(pick(results, 'full-unpartitioned'))}`, pick(results, 'full-unpartitioned')],
    [`COPY + upsert, ${n(s.changed)} changed`, pick(results, 'copy-upsert-10k')],
    ...(results.peers ?? []).map((peer): [string, RunRecord[]] => [`${peer.label}, incremental`, results.runs.filter((r) => r.scenario === 'peer-incremental' && r.tool === peer.name)]),
    [`ferry, incremental, ${n(s.changed)} changed`, pick(results, 'incremental')],
    ['ferry, no-change run', pick(results, 'no-change')],
  ];
  const rows: string[][] = [];
  for (const [label, all] of groups) {
    const runs = measured(all);
    if (!runs.length) continue;
    const med = (f: (c: CpuUsage) => number) => median(runs.map((r) => f(r.cpu)));
    const busy = med((c) => c.busy);
    const wall = median(runs.map((r) => r.wallMs));
    rows.push([
      label,
      fmtMs(wall),
      sec(busy),
      sec(med((c) => c.worker)),
      sec(med((c) => c.postgres)),
      sec(med((c) => c.temporal)),
      sec(med((c) => c.busy - c.worker - c.postgres - c.temporal)),
      runs.some((r) => r.cpu.workerThreads.main !== undefined) ? sec(med((c) => c.workerThreads.main ?? 0)) : '–',
      `${median(runs.map((r) => r.cpu.busy / (r.wallMs / 1000))).toFixed(2)}`,
    ]);
  }
  if (!rows.length) return [];
  return [...cpuTable(rows), ...cpuFloor(results)];
}

function cpuTable(rows: string[][]): string[] {
  return [
    '## Where the CPU goes (all processes, from /proc)',
    '',
    'CPU seconds each run cost the machine (medians): busy time of all cores over the run (`/proc/stat`), and within it the ferry worker process(es), ' +
      'every `postgres` process (backends, WAL writer, checkpointer; closed connections through the postmaster), the Temporal dev server, and the rest ' +
      "(psql of the COPY pipe, the peers' own processes, the bench itself). The worker's main thread is where its JavaScript runs " +
      "(activities, the pg client, and the garbage collector's share on that thread): one core at most, whatever the partitions. \"Cores busy\" is busy ÷ wall: 2.00 is both cores of this machine all the time, " +
      'so a tool at 2.00 can only go faster by needing less CPU.',
    '',
    table(['run', 'wall', 'CPU busy', 'worker', 'postgres', 'temporal', 'rest', "worker's main thread", 'cores busy'], rows, new Set([1, 2, 3, 4, 5, 6, 7, 8])),
  ];
}

/**
 * What the CPU a full load needs allows on this machine: its busy time spread
 * over every core is the shortest wall it could have, and Postgres's share
 * alone bounds it even with a worker and a Temporal that cost nothing.
 */
function cpuFloor(results: BenchResults): string[] {
  const cores = results.machine.cores;
  const full = measured(pick(results, 'full'));
  const copy = measured(pick(results, 'copy-full'));
  if (!cores || !full.length || !copy.length) return [];
  const busy = median(full.map((r) => r.cpu.busy));
  const postgres = median(full.map((r) => r.cpu.postgres));
  const copyBusy = median(copy.map((r) => r.cpu.busy));
  const copyWall = median(copy.map((r) => r.wallMs)) / 1000;
  const s = (x: number) => `${x.toFixed(1)} s`;
  return [
    '',
    `**What this CPU allows on ${cores} cores.** ferry's full load (${partitionsOf(full)}) used ${s(busy)} of CPU, ${s(postgres)} of it in Postgres; ` +
      `the COPY pipe used ${s(copyBusy)} in all. Spread over every core, that CPU takes at least ${s(busy / cores)}: ${fmtRatio(copyWall / (busy / cores))} of COPY's wall (${s(copyWall)}) at best. ` +
      `Postgres's share alone takes at least ${s(postgres / cores)} (${fmtRatio(copyWall / (postgres / cores))} at best), however little the worker and Temporal were to cost. ` +
      'A faster full load on this machine needs less CPU per row, in the worker and in Postgres, not more concurrency.',
  ];
}

const ACTIVITY_ORDER = ['beginRun', 'prepareBatch', 'fetchBatch', 'validateBatch', 'mapBatch', 'upsertBatch', 'commitCheckpoint', 'mirrorDelete', 'finishRun'];
/** known activities in the order a run calls them, others after them by name */
const activityRank = (t: string) => (ACTIVITY_ORDER.includes(t) ? ACTIVITY_ORDER.indexOf(t) : ACTIVITY_ORDER.length);

/**
 * Where the wall time of the median run (by wall time) of a scenario went; "per
 * call" is the median over the calls of every repetition.
 *
 * "summed" adds every call's time, so with partitions (and the next batch
 * prepared while one is written) it can exceed the wall; "busy" is the union of
 * the calls' intervals (the time at least one was running), and "share of
 * wall" is busy ÷ wall, so it stays ≤ 100%. Runs recorded before the union was
 * kept fall back to the sums.
 */
function breakdown(runs: RunRecord[]): string[][] {
  const withHistory = runs.filter((r) => r.history).sort((a, b) => a.wallMs - b.wallMs);
  const run = withHistory[Math.floor((withHistory.length - 1) / 2)] as RunRecord;
  const h = run.history as RunHistory;
  const wall = run.wallMs;
  const ordered = Object.keys(h.activities).sort((a, b) => activityRank(a) - activityRank(b) || a.localeCompare(b));
  const rows: string[][] = [];
  let activityTotal = 0;
  let queue = 0;
  for (const t of ordered) {
    const a = h.activities[t] as RunHistory['activities'][string];
    const perCall = median(withHistory.flatMap((r) => r.history?.activities[t]?.runs ?? []));
    const busy = a.busyMs ?? a.runMs;
    activityTotal += a.runMs;
    queue += a.queueMs;
    rows.push([`\`${t}\``, fmtInt(a.count), fmtMs(a.runMs), a.busyMs === undefined ? '–' : fmtMs(busy), fmtPct(busy / wall), fmtMs(perCall), fmtMs(a.queueMs)]);
  }
  const wft = h.workflowTaskMs;
  const wftBusy = h.workflowTaskBusyMs ?? wft;
  const queueBusy = h.queueBusyMs ?? queue;
  rows.push(['workflow tasks (scheduled → completed)', fmtInt(h.workflowTasks), fmtMs(wft), h.workflowTaskBusyMs === undefined ? '–' : fmtMs(wftBusy), fmtPct(wftBusy / wall), fmtMs(wft / h.workflowTasks), '']);
  rows.push(['activity queueing (scheduled → started), all types', '', fmtMs(queue), h.queueBusyMs === undefined ? '–' : fmtMs(queueBusy), fmtPct(queueBusy / wall), '', '']);
  if (h.busyMs !== undefined && h.activityBusyMs !== undefined) {
    const idle = wall - h.busyMs;
    rows.push(['any of the above (union of all their intervals)', '', '', fmtMs(h.busyMs), fmtPct(h.busyMs / wall), '', '']);
    rows.push(['rest: none of them open (client start → first event, history writes between tasks, last event → result)', '', '', fmtMs(idle), fmtPct(idle / wall), '', '']);
    rows.push([
      'activity concurrency: activities summed ÷ their union (partitions side by side, the next batch prepared while one is written)',
      '',
      '',
      '',
      h.activityBusyMs > 0 ? fmtRatio(activityTotal / h.activityBusyMs) : '–',
      '',
      '',
    ]);
  } else {
    const rest = wall - activityTotal - wft - queue;
    if (rest >= 0) rows.push(['rest: client start → first event, last event → result, history writes between tasks', '', fmtMs(rest), '', fmtPct(rest / wall), '', '']);
    else rows.push(['overlap: time two steps ran at once (the next batch prepared while one is written)', '', fmtMs(-rest), '', fmtPct(-rest / wall), '', '']);
  }
  rows.push([`**wall (client start → result), median run of ${withHistory.length}**`, '', '', `**${fmtMs(wall)}**`, '100%', '', '']);
  return rows;
}

/** "4 partitions" / "1 partition" */
const partitionsLabel = (k: number) => `${k} partition${k === 1 ? '' : 's'}`;

/** How many partitions the runs asked for (recorded per run; older results: none asked, 1). */
const askedPartitions = (runs: readonly RunRecord[]) => median(runs.map((r) => r.partitions ?? 1));

/** "stream defaults (batch 5,000, 1 partition)": what a Postgres stream setting neither batchSize nor partitions gets */
const defaultsLabel = (runs: readonly RunRecord[]): string => `stream defaults (batch ${fmtInt(runs[0]?.batchSize ?? Number.NaN)}, 1 partition)`;

/**
 * "4 partitions", or "4 partitions asked, 2 loaded" when the source split the
 * load into fewer (a range smaller than a batch is not worth a child workflow).
 * None started at all is called out below the results table instead.
 */
function partitionsOf(runs: readonly RunRecord[]): string {
  const asked = askedPartitions(runs);
  // the stream workflow's own children: a partition's children (none today) are not partitions
  const started = median(runs.flatMap((r) => (r.history ? [r.history.chains ? r.history.chains.filter((c) => c.depth === 1).length : (r.history.childWorkflows ?? 0)] : [])));
  return asked > 1 && Number.isFinite(started) && started > 0 && started !== asked ? `${partitionsLabel(asked)} asked, ${fmtInt(started)} loaded` : partitionsLabel(asked);
}

/** "1,234 (12 / 4 / 412)": events summed over every execution (executions / child workflows / the largest one execution) */
function eventsCell(runs: readonly RunRecord[]): string {
  const hs = runs.flatMap((r) => (r.history ? [r.history] : []));
  if (!hs.length) return '';
  return `${fmtInt(median(hs.map((h) => h.events)))} (${fmtInt(median(hs.map((h) => h.executions)))} / ${fmtInt(median(hs.map((h) => h.childWorkflows ?? 0)))} / ${fmtInt(max(hs.map((h) => h.maxEventsPerExecution)))})`;
}

export function renderReport(results: BenchResults, notes?: string): string {
  const s = results.settings;
  const m = results.machine;
  const out: string[] = [];
  const p = (line = '') => out.push(line);
  const n = (x: number) => x.toLocaleString('en-US');
  const reps = (runs: RunRecord[]) => runs.length;

  p('# ferry benchmark: Postgres → Postgres');
  p();
  p(`Generated by \`npm run bench\` (scripts/bench.sh → bench/run.ts), ${results.startedAt.slice(0, 16).replace('T', ' ')} → ${results.finishedAt.slice(11, 16)} UTC. Do not edit by hand: run it again.`);
  p(
    `Settings: ${n(s.rows)} rows × 11 columns, ${s.repeat} repetitions, ${n(s.changed)} changed rows, stream batch size **${n(s.batchSize)}** (${s.batchChosenBy}), ` +
      (s.partitions === undefined
        ? "ferry's full loads ask for no partitions (a bench from before BENCH_PARTITIONS)."
        : `ferry's full loads ask for **${partitionsLabel(s.partitions)}** (BENCH_PARTITIONS${s.partitions > 1 ? '; the main phase also runs one with 1' : ''}).`),
  );
  p();

  // ---------------------------------------------------------------- headline
  const full = pick(results, 'full');
  const unpartitioned = pick(results, 'full-unpartitioned');
  const inc = pick(results, 'incremental');
  const none = pick(results, 'no-change');
  const copyFull = pick(results, 'copy-full');
  const copyInc = pick(results, 'copy-upsert-10k');
  const small = pick(results, 'full-small');
  const defaults = pick(results, 'full-defaults');
  if (full.length || results.runs.some((r) => r.scenario === 'peer-full')) {
    p('## Side by side');
    p();
    p(
      `Same ${n(s.rows)}-row × 11-column source table, each tool into a fresh Postgres table, medians of ${s.repeat} (tools in rotated order within each repetition). ` +
        'Full load: wall of the whole run, process start to exit for COPY and the peers (interpreter start and imports included), client `workflow.start` → `result()` for ferry (its worker is already running). ' +
        `Incremental: ${n(s.changed)} rows spread over the table get a new \`updated_at\`, then one run (Sling: \`--mode incremental\` with update key \`updated_at\` and primary key \`id\`; dlt: \`sql_table\` with \`incremental("updated_at")\`, write disposition merge on \`id\`; COPY: the changed rows → temp table → \`INSERT … ON CONFLICT DO UPDATE\`). ` +
        'Peak RSS: the largest process of the tool (GNU time %M: the COPY pipe\'s psql, Sling\'s binary, dlt\'s Python), ferry\'s worker process (VmHWM); median over its full and incremental runs.',
    );
    p();
    for (const line of sideBySide(results)) p(line);
    p();
    const checks = results.checks ?? [];
    if (checks.length) {
      const bad = checks.filter((c) => !c.ok);
      p(
        `Content checks (first repetition; count + md5 over the 11 source columns, one canonical text per column for every tool: bigint, lower-cased e-mail, numeric(12,2), boolean, timestamptz; extra columns such as ferry's \`id\` are left out): ` +
          (bad.length
            ? `**${bad.length} of ${checks.length} differ**: ${bad.map((c) => `${c.tool} after ${c.after} (${n(c.targetRows)} rows, source ${n(c.sourceRows)})`).join('; ')}.`
            : `all ${checks.length} equal the source (${[...new Set(checks.map((c) => `${c.tool} after ${c.after}`))].join(', ')}).`),
      );
      p();
    }
    p(
      'Type differences the peers introduce (the check reads through them): Sling creates its table without a primary key and with `balance numeric` (no scale); dlt writes `varchar` for the text columns and adds its own `_dlt_loads`, `_dlt_pipeline_state` and `_dlt_version` tables to the dataset (with its defaults also `_dlt_load_id` and `_dlt_id` columns, and `score bigint`). ferry writes into an existing table with its own `id` and renamed columns (`src_id`, `source_updated_at`) and lower-cases the e-mail, as the COPY baseline does.',
    );
    p();
  }

  if (full.length) {
    p('## Results');
    p();
    p(
      `Medians of ${reps(full)} repetitions (min–max in brackets). Wall time is client \`workflow.start\` → \`result()\`; rows/s = rows read ÷ wall. Peak RSS is the worker process's VmHWM, reset before each run. ` +
        'History events are summed over every execution: the stream workflow\'s continue-as-new chain and, for a partitioned first load, each child workflow (one per partition) with its own chain; in brackets executions / child workflows / events of the largest single execution (the bound continue-as-new keeps).',
    );
    p();
    const copyRate = median(copyFull.map(rate));
    const copyIncRate = median(copyInc.map(rate));
    const line = (label: string, runs: RunRecord[], base: number | undefined, rateOf = rate) => {
      const walls = runs.map((r) => r.wallMs);
      const rates = runs.map(rateOf);
      const hasMem = runs.some((r) => r.peakRss > 0);
      return [
        label,
        fmtInt(median(runs.map((r) => r.records))),
        `${fmtMs(median(walls))} (${fmtMs(min(walls))}–${fmtMs(max(walls))})`,
        fmtInt(median(rates)),
        base === undefined ? '' : fmtInt(base),
        base === undefined ? '' : fmtRatio(median(rates) / base),
        hasMem ? `${fmtMiB(median(runs.map((r) => r.peakRss)))} (${fmtMiB(min(runs.map((r) => r.peakRss)))}–${fmtMiB(max(runs.map((r) => r.peakRss)))})` : '',
        eventsCell(runs),
      ];
    };
    p(
      table(
        ['run', 'rows', 'wall (min–max)', 'rows/s', 'COPY rows/s', 'ferry ÷ COPY', 'worker peak RSS (min–max)', 'history events (executions / child workflows / largest execution)'],
        [
          line(`**full load**, ${partitionsOf(full)} (no checkpoint)`, full, copyRate),
          ...(unpartitioned.length ? [line(`full load, ${partitionsOf(unpartitioned)} (no checkpoint)`, unpartitioned, copyRate)] : []),
          line('COPY baseline: `COPY (select …) TO STDOUT \\| COPY dst FROM STDIN`', copyFull, undefined),
          line(`**incremental**, ${n(s.changed)} changed`, inc, copyIncRate),
          line(`COPY baseline: ${n(s.changed)} changed rows → temp table → INSERT … ON CONFLICT`, copyInc, undefined),
          line('**no-change** run', none, undefined),
          ...(small.length ? [line(`full load, ${n(s.smallRows)}-row table (RSS check)`, small, undefined)] : []),
          ...(defaults.length ? [line(`full load, ${n(s.smallRows)}-row table, ${defaultsLabel(defaults)}`, defaults, undefined)] : []),
        ],
        new Set([1, 2, 3, 4, 5, 6, 7]),
      ),
    );
    p();
    // a load asked for partitions may still run as one (too small to split, or an older worker): say so
    const unsplit = [...full, ...small, ...pick(results, 'workers-full')].filter((r) => (r.partitions ?? 1) > 1 && r.history && !r.history.childWorkflows);
    if (unsplit.length) {
      p(
        `**Not partitioned:** ${unsplit.length} full load(s) asked for partitions but started no child workflow, so they ran as one load ` +
          `(${unsplit.map((r) => `${r.scenario} #${r.rep}${r.workers ? ` ×${r.workers} workers` : ''}`).join(', ')}): ` +
          'a table of fewer rows than two batches is not split, and a worker from before partitioned first loads ignores the field.',
      );
      p();
    }

    // ---------------------------------------------------------------- aims
    p('## Aims (issue #12)');
    p();
    const ratio = median(full.map(rate)) / copyRate;
    const incWall = median(inc.map((r) => r.wallMs));
    const noneWall = median(none.map((r) => r.wallMs));
    const bigRss = median(full.map((r) => r.peakRss));
    const smallRss = median(small.map((r) => r.peakRss));
    const rssDiff = (bigRss - smallRss) / smallRss;
    const workerRuns = pick(results, 'workers-full');
    const defaultsRss = median(defaults.map((r) => r.peakRss));
    const allPeaks = [...full, ...unpartitioned, ...inc, ...none, ...small, ...defaults, ...workerRuns].flatMap((r) => r.workerPeakRss ?? [r.peakRss]);
    const worstRss = max(allPeaks);
    const withFootprint = full.filter((r) => r.stateBytes !== undefined && r.targetBytes !== undefined);
    const stateBytes = median(withFootprint.map((r) => r.stateBytes as number));
    const targetBytes = median(withFootprint.map((r) => r.targetBytes as number));
    const histories = full.filter((r) => r.history).map((r) => r.history as RunHistory);
    const maxEvents = max(histories.map((h) => h.maxEventsPerExecution ?? h.events / h.executions));
    const firstTenth = median(full.map((r) => (r.rssByDecile ? (r.rssByDecile[0] ?? Number.NaN) : Number.NaN)));
    const lastTenth = median(full.map((r) => (r.rssByDecile ? (r.rssByDecile[9] ?? Number.NaN) : Number.NaN)));
    const yes = (ok: boolean) => (ok ? '**yes**' : '**no**');
    p(
      table(
        ['aim', 'measured', 'met?'],
        [
          [`full load (${partitionsOf(full)}) ≥ 0.6× the COPY pipe's rows/s`, `${fmtInt(median(full.map(rate)))} vs ${fmtInt(copyRate)} rows/s = ${fmtRatio(ratio)}`, yes(ratio >= 0.6)],
          [`${n(s.changed)}-row incremental ≤ 0.5 s end to end`, `median ${fmtMs(incWall)} (min ${fmtMs(min(inc.map((r) => r.wallMs)))})`, yes(incWall <= 500)],
          ['no-change run ≤ 0.2 s', `median ${fmtMs(noneWall)}`, yes(noneWall <= 200)],
          [
            'worker peak RSS ≤ 300 MB at any table size',
            `highest of all ferry runs ${fmtMiB(worstRss)} (${Math.round(worstRss / MB)} MB); full load median ${fmtMiB(bigRss)}${small.length ? `, ${n(s.smallRows)}-row table ${fmtMiB(smallRss)} (${rssDiff >= 0 ? '+' : ''}${(rssDiff * 100).toFixed(0)}% at ${n(s.rows)} rows)` : ''}${defaults.length ? `; with the ${defaultsLabel(defaults)} ${fmtMiB(defaultsRss)} (${Math.round(defaultsRss / MB)} MB)` : ''}`,
            yes(worstRss <= RSS_AIM),
          ],
          [
            'state-store footprint of a full load ≤ the target table\'s size',
            withFootprint.length ? `ferry_* tables ${fmtMiB(stateBytes)} vs target ${fmtMiB(targetBytes)} (right after the load, before any vacuum; indexes and dead rows included)` : 'not measured',
            withFootprint.length ? yes(stateBytes <= targetBytes) : '',
          ],
          [
            '10,000,000-row full load reported, RSS flat',
            s.rows >= TEN_MILLION
              ? `${n(s.rows)} rows: peak RSS ${fmtMiB(bigRss)}; first tenth of the run ${fmtMiB(firstTenth)}, last tenth ${fmtMiB(lastTenth)}`
              : `not in this report (${n(s.rows)} rows): [REPORT-10M.md](REPORT-10M.md) (\`BENCH_UNPARTITIONED=0 npm run bench -- --rows 10000000 --repeat 1 --phases main --peers none\`)`,
            s.rows >= TEN_MILLION ? yes(bigRss <= RSS_AIM && Math.abs(lastTenth - firstTenth) <= Math.max(0.1 * firstTenth, 16 * MiB)) : '–',
          ],
          [
            'history per run bounded (continue-as-new)',
            `at most ${fmtInt(maxEvents)} events in one execution (${fmtInt(median(histories.map((h) => h.executions)))} executions and ${fmtInt(median(histories.map((h) => h.childWorkflows ?? 0)))} child workflows per full load)`,
            yes(maxEvents <= 10_240),
          ],
        ],
      ),
    );
    p();
  }

  // ---------------------------------------------------------------- workers
  const workerRuns = pick(results, 'workers-full');
  if (workerRuns.length || (s.workers?.length && full.length)) {
    p('## Worker processes (ferry full load)');
    p();
    p(
      `The same full load with 1, ${(s.workers ?? []).join(' and ')} worker processes (\`src/worker.ts\`, all polling the same task queue), fresh workers and an empty target and state store each time, each load asking for ${partitionsLabel(askedPartitions(workerRuns.length ? workerRuns : full))}; 1 worker is the full load of the table above. ` +
        `Medians of ${s.workersRepeat ?? s.repeat}. "Activities per worker" counts \`ActivityTaskStarted\` events by worker identity in the median run, over the stream workflow and its partitions' child workflows: how the work spread.`,
    );
    p();
    const copyRate = median(copyFull.map(rate));
    const oneRate = median(full.map(rate));
    const spread = (runs: RunRecord[]) => {
      const sorted = runs.filter((r) => r.history).sort((a, b) => a.wallMs - b.wallMs);
      const mid = sorted[Math.floor((sorted.length - 1) / 2)];
      if (!mid?.history) return '–';
      const counts = Object.values(mid.history.activitiesByWorker ?? {}).sort((a, b) => b - a);
      while (counts.length < (mid.workers ?? 1)) counts.push(0);
      return counts.map((c) => fmtInt(c)).join(' / ');
    };
    const wLine = (k: number, runs: RunRecord[]) => [
      String(k),
      fmtMs(median(runs.map((r) => r.wallMs))),
      fmtInt(median(runs.map(rate))),
      fmtRatio(median(runs.map(rate)) / copyRate),
      fmtRatio(median(runs.map(rate)) / oneRate),
      fmtMiB(median(runs.map((r) => max(r.workerPeakRss ?? [r.peakRss])))),
      spread(runs),
    ];
    p(
      table(
        ['worker processes', 'full load', 'rows/s', '× COPY', '× 1 worker', 'peak RSS (largest worker)', 'activities per worker'],
        [wLine(1, full), ...(s.workers ?? []).map((k) => wLine(k, workerRuns.filter((r) => r.workers === k)))],
        new Set([1, 2, 3, 4, 5, 6]),
      ),
    );
    p();
  }

  // ---------------------------------------------------------------- memory
  const memRuns = [...pick(results, 'full-small'), ...defaults, ...pick(results, 'full'), ...unpartitioned];
  if (memRuns.length) {
    p('## Worker memory: small table vs big table');
    p();
    p('Each full load runs in a fresh worker. "Idle" is VmRSS just before the run (worker started, workflow bundle loaded); "peak" is VmHWM over the run; the last two columns are the highest polled VmRSS in the first and the last tenth of the run: equal when memory stopped growing with the rows read.');
    p();
    const half = (r: RunRecord, from: number, to: number) => (r.rssByDecile ? Math.max(...r.rssByDecile.slice(from, to)) : Number.NaN);
    const memLine = (label: string, runs: RunRecord[]) => [
      label,
      fmtInt(median(runs.map((r) => r.batches))),
      fmtMiB(median(runs.map((r) => r.idleRss))),
      fmtMiB(median(runs.map((r) => r.peakRss))),
      fmtMiB(median(runs.map((r) => half(r, 0, 1)))),
      fmtMiB(median(runs.map((r) => half(r, 9, 10)))),
    ];
    p(
      table(
        ['full load', 'batches', 'idle RSS', 'peak RSS (VmHWM)', 'peak, first 10% of run', 'peak, last 10% of run'],
        [
          ...(small.length ? [memLine(`${n(s.smallRows)} rows, ${partitionsOf(small)}`, small)] : []),
          ...(defaults.length ? [memLine(`${n(s.smallRows)} rows, ${defaultsLabel(defaults)}`, defaults)] : []),
          ...(full.length ? [memLine(`${n(s.rows)} rows, ${partitionsOf(full)}`, full)] : []),
          ...(unpartitioned.length ? [memLine(`${n(s.rows)} rows, ${partitionsOf(unpartitioned)}`, unpartitioned)] : []),
        ],
        new Set([1, 2, 3, 4, 5]),
      ),
    );
    p();
  }

  // ---------------------------------------------------------------- variants
  const variantNames = [...new Set(results.runs.flatMap((r) => (r.variant ? [r.variant] : [])))];
  if (variantNames.length && full.length) {
    p('## Variants (BENCH_VARIANTS: other checkouts, same run, rotated order)');
    p();
    const copyRate = median(copyFull.map(rate));
    const of = (v: string | undefined, sc: RunRecord['scenario']) => results.runs.filter((r) => r.scenario === sc && r.variant === v);
    const vLine = (label: string, v: string | undefined) => {
      const f = of(v, 'full');
      const i = of(v, 'incremental');
      const z = of(v, 'no-change');
      return [
        label,
        fmtInt(median(f.map(rate))),
        fmtRatio(median(f.map(rate)) / copyRate),
        fmtRatio(median(f.map(rate)) / median(full.map(rate))),
        fmtMs(median(i.map((r) => r.wallMs))),
        fmtMs(median(z.map((r) => r.wallMs))),
        `${fmtInt(median(f.map((r) => r.history?.events ?? Number.NaN)))} / ${fmtInt(median(i.map((r) => r.history?.events ?? Number.NaN)))} / ${fmtInt(median(z.map((r) => r.history?.events ?? Number.NaN)))}`,
        fmtMiB(median(f.map((r) => r.peakRss))),
      ];
    };
    p(
      table(
        ['worker', 'full rows/s', '÷ COPY', '÷ this checkout', `${n(s.changed)} incremental wall`, 'no-change wall', 'events full / incr. / none', 'full peak RSS'],
        [vLine('this checkout', undefined), ...variantNames.map((v) => vLine(`\`${v}\``, v))],
        new Set([1, 2, 3, 4, 5, 6, 7]),
      ),
    );
    p();
  }

  // ---------------------------------------------------------------- sweep
  const sweepFull = pick(results, 'sweep-full');
  if (sweepFull.length) {
    p('## Batch-size sweep');
    p();
    p(`Full load of ${n(s.sweepRows)} rows then a ${n(s.changed)}-row incremental, fresh worker per batch size, ${s.sweepRepeat} repetition(s) (medians). Full loads ask for ${partitionsLabel(askedPartitions(sweepFull))}. The fastest full load sets the batch size of the runs above${s.batchChosenBy === 'BENCH_BATCH' ? ' (here overridden by BENCH_BATCH)' : ''}.`);
    p();
    const rows = s.sweep.map((b) => {
      const f = pick(results, 'sweep-full', b);
      const i = pick(results, 'sweep-incremental', b);
      return [
        n(b) + (b === s.batchSize ? ' ←' : ''),
        fmtMs(median(f.map((r) => r.wallMs))),
        fmtInt(median(f.map(rate))),
        fmtMiB(median(f.map((r) => r.peakRss))),
        fmtInt(median(f.map((r) => r.history?.events ?? Number.NaN))),
        fmtInt(median(f.map((r) => r.history?.executions ?? Number.NaN))),
        fmtMs(median(i.map((r) => r.wallMs))),
        fmtInt(median(i.map((r) => r.batches))),
      ];
    });
    p(table(['batch size', 'full: wall', 'full: rows/s', 'full: peak RSS', 'full: events', 'executions', `${n(s.changed)} incremental: wall`, 'incremental: batches'], rows, R));
    p();
  }

  // ---------------------------------------------------------------- strategies
  const st = results.strategies;
  if (st) {
    p('## Target write strategies (one batch → one upsert)');
    p();
    p(`bench/target-strategies.ts: ${n(st.batch)}-row batches of the bench's projections into the same target table (bigserial id, unique \`src_id\`), returning B's id for each row as \`PostgresTarget.upsert\` must. ${st.batches} batches into an empty table (inserts), then the same ${st.batches} again (every row conflicts: updates); ${st.repeat} repetitions, strategies in rotated order; median ms per batch. Time includes building the parameters in JS.`);
    p();
    const base = st.results[0];
    p(
      table(
        ['strategy', 'insert ms/batch', 'insert rows/s', 'vs current', 'update ms/batch', 'update rows/s', 'vs current'],
        st.results.map((r) => [
          r.strategy,
          r.insertMs.toFixed(0),
          fmtInt(r.insertRowsPerSec),
          base ? fmtRatio(r.insertRowsPerSec / base.insertRowsPerSec) : '',
          r.updateMs.toFixed(0),
          fmtInt(r.updateRowsPerSec),
          base ? fmtRatio(r.updateRowsPerSec / base.updateRowsPerSec) : '',
        ]),
        new Set([1, 2, 3, 4, 5, 6]),
      ),
    );
    p();
  }

  // ---------------------------------------------------------------- where the CPU goes
  const cpu = cpuSection(results);
  if (cpu.length) {
    for (const line of cpu) p(line);
    p();
  }

  // ---------------------------------------------------------------- where time goes
  if (full.length) {
    p('## Where the time goes (from history event timestamps)');
    p();
    p(
      'Activity time is `ActivityTaskStarted` → `ActivityTaskCompleted`; queueing is `Scheduled` → `Started`; workflow tasks are `WorkflowTaskScheduled` → `Completed`; ' +
        'over every execution of the run: the stream workflow\'s continue-as-new chain and its child workflows (a partitioned first load\'s partitions) with theirs. ' +
        'The median run by wall time is shown; "per call" is the median over all calls of every repetition. ' +
        '"Summed" adds up every call, so it exceeds the wall when steps run at once (partitions loading side by side; the next batch prepared while one is written). ' +
        '"Busy" is the union of the calls\' intervals (the time at least one of them was running) and "share of wall" is busy ÷ wall, so no share exceeds 100%; ' +
        'the shares of different steps still overlap one another, hence the union of all of them, the rest of the wall outside it, and the activity concurrency (summed ÷ the union of all activities).',
    );
    p();
    for (const [label, runs] of [
      [`Full load, ${n(s.rows)} rows, batch ${n(s.batchSize)}, ${partitionsOf(full)}`, full],
      [`Full load, ${n(s.rows)} rows, batch ${n(s.batchSize)}, ${partitionsOf(unpartitioned)}`, unpartitioned],
      [`Incremental, ${n(s.changed)} changed`, inc],
      ['No-change run', none],
    ] as const) {
      if (!runs.length) continue;
      p(`### ${label}`);
      p();
      const withHistory = runs.filter((r) => r.history);
      const children = median(withHistory.map((r) => r.history?.childWorkflows ?? 0));
      const largest = max(withHistory.map((r) => r.history?.maxEventsPerExecution ?? 0));
      p(`${fmtInt(median(withHistory.map((r) => r.history?.executions ?? 0)))} executions, ${fmtInt(children)} child workflow(s), ${fmtInt(median(withHistory.map((r) => r.history?.events ?? 0)))} events (medians); largest single execution ${fmtInt(largest)} events.`);
      p();
      p(table(['step', 'calls', 'summed', 'busy (union)', 'share of wall', 'per call', 'queued (summed)'], breakdown(runs), new Set([1, 2, 3, 4, 5, 6])));
      p();
    }
  }

  // ---------------------------------------------------------------- machine + method
  p('## Machine and versions');
  p();
  p(table(['', ''], [
    ['CPU', m.cpu],
    ['memory', m.memory],
    ['kernel', m.kernel],
    ['Node.js', m.node],
    ['PostgreSQL', `${m.postgres}${m.postgresSettings ? ` (${m.postgresSettings})` : ''}`],
    ['Temporal', `${m.temporal}: dev server (\`temporal server start-dev\`), SQLite file in WAL mode, synchronous=NORMAL, headless, port 7253`],
    ['Temporal TS SDK / pg', `${m.sdk} / ${m.pg}`],
    ['load average at start', m.load],
  ]));
  p();
  p('The machine is shared: other engineers ran tests at the same time, so absolute numbers are noisy; every ferry number sits beside its COPY baseline measured in the same run, and the tables give medians and ratios.');
  p();
  p('## Method');
  p();
  p(`- **Data**: source \`bench_src\` (id bigint pk, email, first/last name, country, city, score int, balance numeric(12,2), active bool, created_at, updated_at timestamptz; index on (updated_at, id) for keyset paging), ${n(s.rows)} rows generated in SQL. Target \`bench_dst\`: own bigserial id, unique \`src_id\`, the same 10 data columns. Both in a database created for the run and dropped after it; the state store is in that database too.`);
  p('- **Stream** (bench/ferry.bench.config.ts): timestamp cursor on `updated_at`, zod schema over all 11 fields, a map that renames and lower-cases the e-mail, `postgresTarget` keyed on `src_id` (id column `id`), no deletes, default continue-as-new (every 100 batches or when Temporal suggests it), batch size passed per run.');
  p('- **Worker**: a child process `node dist/worker.js`, the compiled worker as deployed (`npm run build` first; `BENCH_WORKER_ENTRY=src/worker.ts` runs the source under tsx instead) (DATABASE_URL, TEMPORAL_ADDRESS, FERRY_TASK_QUEUE, FERRY_CONFIG=bench/ferry.bench.config.ts, FERRY_WORKFLOW_BUNDLE prebuilt), started fresh for every group of runs; RSS from /proc/<pid>/status: VmHWM after resetting it (`echo 5 > /proc/<pid>/clear_refs`) right before each run, cross-checked by polling VmRSS every 50 ms.');
  p(`- **Per repetition**: COPY baseline into the empty target → empty the target and ferry's state → fresh worker → **full load** (first run, no checkpoint, asking for ${partitionsLabel(s.partitions ?? 1)}) → \`VACUUM (ANALYZE)\` of source, target and ferry's state tables (what autovacuum would have done before a later run; not timed) → ${n(s.changed)} rows spread over the table get a new \`updated_at\` and score → **incremental** → COPY+upsert baseline of the same changed rows → **no-change** run. A \`CHECKPOINT\` precedes every timed run. In the first repetition each tool's target is compared with the source after its full load and after its incremental (count + md5, see the content checks above). ${(s.partitions ?? 1) > 1 ? 'A separate unit, with its own fresh worker after emptying the target and the state, runs the same **full load with 1 partition** (checked in the first repetition too). ' : ''}Within a repetition the order of ferry's cycle${(s.partitions ?? 1) > 1 ? ', its unpartitioned full load' : ''} and the peers' rotates.`);
  p('- **Peers** (bench/peers/, installed by scripts/ensure-bench-peers.sh into `.ferry/bench-venv` from PyPI; one not installable is reported with the reason): Sling, `sling run --src-conn … --src-stream public.bench_src --tgt-conn … --tgt-object public.sling_dst --mode full-refresh` with its defaults, then `--mode incremental --primary-key id --update-key updated_at`; dlt, bench/peers/dlt_load.py: `sql_table(backend="connectorx", incremental=dlt.sources.incremental("updated_at"))`, primary key `id`, `loader_file_format="parquet"`, write disposition replace for the full load (dataset and pipeline state dropped first) and merge for the incremental. Each peer\'s full load goes into a fresh table; after it its table and the source get `VACUUM (ANALYZE)` like ferry\'s, then the same kind of 10K change and its incremental run.');
  p(`- **Worker processes**: ${(s.workers ?? []).length ? `the full load again with ${(s.workers ?? []).join(' and ')} worker processes started on one task queue (BENCH_WORKERS)` : 'not run (BENCH_PHASES without workers)'}.`);
  p(`- **RSS check**: the same full load on a ${n(s.smallRows)}-row table, fresh worker, same batch size${defaults.length ? `; then once more with the ${defaultsLabel(defaults)}, which a stream setting neither gets` : ''}.`);
  p('- **Baselines**: `psql \\copy (select … from bench_src) to pstdout | psql \\copy bench_dst (…) from pstdin` — both ends C clients in text format, so they measure the database, not a client library. The incremental baseline copies the changed rows into a temp table and upserts them with one INSERT … SELECT … ON CONFLICT DO UPDATE.');
  p('- **History**: `fetchHistory()` of each execution, following `WorkflowExecutionContinuedAsNew` to the next run id and `ChildWorkflowExecutionStarted` to each child workflow (its own chain and children too); bench/history.ts.');
  p();

  if (notes) {
    p(notes.trim());
    p();
  }
  p('## Other benchmarks');
  p();
  p('- [REPORT-10M.md](REPORT-10M.md): the same Postgres → Postgres full load on 10,000,000 rows beside COPY, with the worker\'s RSS over the run (`BENCH_UNPARTITIONED=0 BENCH_REPORT=bench/REPORT-10M.md npm run bench -- --rows 10000000 --repeat 1 --phases main --peers none`).');
  p('- [EXCHANGE-REPORT.md](EXCHANGE-REPORT.md): exchange plans, 10,000 changes in one handshake and a 100,000-change backlog (`npx tsx bench/exchange.ts`).');
  p('- [CONNECTORS-REPORT.md](CONNECTORS-REPORT.md): Postgres → MariaDB 10,000-changed-row incremental, HTTP source records/s (`bench/http-source.ts`).');
  p();
  return out.join('\n');
}

export async function writeReport(file: string, results: BenchResults): Promise<void> {
  const notesFile = path.join(path.dirname(file), 'notes.md');
  const notes = existsSync(notesFile) ? await readFile(notesFile, 'utf8') : undefined;
  await writeFile(file, renderReport(results, notes));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const input = process.argv[2] ?? '.ferry/bench/results.json';
  const output = process.argv[3] ?? 'bench/REPORT.md';
  const results = JSON.parse(await readFile(input, 'utf8')) as BenchResults;
  await writeReport(output, results);
  console.log(`wrote ${output}`);
}
