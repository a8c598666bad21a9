// The bench's own measuring parts (bench/): the content check every tool's target
// goes through, the timed child that gives COPY's and the peers' peak RSS, a
// peer that cannot be installed being reported with its reason (not skipped),
// and the history walk (continue-as-new chains and child workflows, i.e. a
// partitioned first load's partitions) with the report's honest shares of wall.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
// CommonJS: its named exports are not visible to ESM, the default export is the module
import proto from '@temporalio/proto';
import { startCpuMeter } from '../bench/cpu-usage.js';
import { collectHistory, runHistory, unionMs, type HistoryEvent } from '../bench/history.js';
import { loadPeers } from '../bench/peers/peers.js';
import { renderReport, type BenchResults, type RunRecord } from '../bench/report.js';
import { SOURCE_COLUMNS, contentHash, createSourceTable, ferryStateTables, sourceHash } from '../bench/tables.js';
import { ChildFailed, canMeasureChildRss, runTimed } from '../bench/timed-child.js';
import { definePipeline } from '../src/config/define-pipeline.js';
import { pipelineWorkflowId } from '../src/workflows/ids.js';
import { createCustomerTables, customerStream, seedCustomers } from './support/customers.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { startPipeline } from './support/scheduling.js';

describe('bench harness', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase('bench_harness');
    await createSourceTable(db.pool, 'bench_src', 3000);
  });
  after(() => db.drop());

  it("content hash: equal through a peer's own types, different when one value or row differs", async () => {
    const source = await sourceHash(db.pool, 'bench_src');
    assert.equal(source.rows, 3000);
    assert.match(source.md5, /^[0-9a-f]{32}$/);
    // a peer's table: other types (Sling: numeric without scale; dlt: varchar, bigint), other
    // column order, extra columns, e-mail not lower-cased
    await db.pool.query(`
      create table peer_dst as
      select 'x'::varchar as _dlt_id, city::varchar, id, email::varchar, first_name::varchar, last_name::varchar, country::varchar,
             score::bigint, balance::numeric, active, created_at, updated_at
      from bench_src`);
    const same = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.deepEqual(same, source);
    // ferry's shape: own id, renamed key and cursor columns, lower-cased e-mail
    await db.pool.query(`
      create table ferry_like as
      select row_number() over () + 100 as own_id, id as src_id, lower(email) as email, first_name, last_name, country, city, score, balance, active,
             created_at, updated_at as source_updated_at from bench_src`);
    const ferry = await contentHash(db.pool, 'ferry_like', ['src_id', 'email', 'first_name', 'last_name', 'country', 'city', 'score', 'balance', 'active', 'created_at', 'source_updated_at']);
    assert.deepEqual(ferry, source);

    await db.pool.query(`update peer_dst set balance = balance + 0.01 where id = 1234`);
    const changed = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.equal(changed.rows, 3000);
    assert.notEqual(changed.md5, source.md5);
    await db.pool.query(`update peer_dst set balance = balance - 0.01 where id = 1234`);
    assert.deepEqual(await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS), source);

    await db.pool.query(`delete from peer_dst where id = 2999`);
    const missing = await contentHash(db.pool, 'peer_dst', SOURCE_COLUMNS);
    assert.equal(missing.rows, 2999);
    assert.notEqual(missing.md5, source.md5);
  });

  it('finds the state-store tables instead of a fixed list', async () => {
    await db.pool.query(`create table ferry_migrations (name text); create table ferry_something (x int); create table ferry_other (y int)`);
    assert.deepEqual(await ferryStateTables(db.pool), ['ferry_like', 'ferry_other', 'ferry_something']);
  });

  it('times a child and reports the peak RSS of its largest process; a failure says which and why', async (t) => {
    if (!canMeasureChildRss()) return t.skip('GNU time is not installed (apt-get install time)');
    // a grandchild that touches 64 MiB: ru_maxrss of the reaped tree reaches it
    const r = await runTimed('allocating child', 'bash', ['-c', `node -e "const b = Buffer.alloc(64 * 1024 * 1024, 1); console.log(b[5])"`]);
    assert.equal(r.stdout.trim(), '1');
    assert.ok(r.peakRss >= 64 * 1024 * 1024, `peak RSS ${r.peakRss} should include the 64 MiB buffer`);
    assert.ok(r.wallMs > 0);
    await assert.rejects(runTimed('failing child', 'bash', ['-c', 'echo "no such table" >&2; exit 3']), (err: unknown) => {
      assert.ok(err instanceof ChildFailed);
      assert.equal(err.code, 3);
      assert.match(err.message, /failing child exited with 3: no such table/);
      return true;
    });
  });

  it("CPU by process group: this process's busy loop as the worker's main thread, a query's backend as Postgres (also after its connection closed)", async () => {
    const meter = await startCpuMeter([process.pid]);
    const start = process.cpuUsage();
    const used = () => {
      const u = process.cpuUsage(start);
      return u.user + u.system;
    };
    let spins = 0;
    // until this process has had 0.6 s of CPU, however busy the machine is
    while (used() < 600_000) spins += 1;
    // psql's own connection: its backend exits before the meter stops, and still counts (through the postmaster)
    execFileSync('psql', [db.url, '-Atc', 'select count(*) from generate_series(1, 3000000)'], { encoding: 'utf8' });
    const cpu = await meter.stop();
    assert.ok(spins > 0);
    assert.ok(cpu.worker >= 0.4 && cpu.worker <= cpu.busy + 0.05, `worker ${cpu.worker} s of ${cpu.busy} s busy`);
    assert.ok((cpu.workerThreads.main ?? 0) >= 0.4, `main thread ${JSON.stringify(cpu.workerThreads)}`);
    assert.ok(cpu.postgres >= 0.1, `postgres ${cpu.postgres} s`);
    assert.ok(cpu.worker + cpu.postgres + cpu.temporal <= cpu.busy + 0.3, `groups ${cpu.worker} + ${cpu.postgres} + ${cpu.temporal} within ${cpu.busy} s busy`);
  });

  it('a peer that cannot be installed is reported with the reason, not skipped', async () => {
    const venv = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-peers-'));
    try {
      const out = execFileSync('bash', [path.join(repoRoot, 'scripts/ensure-bench-peers.sh')], {
        env: { ...process.env, BENCH_VENV: venv, BENCH_PYTHON: 'no-such-python3' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const statusFile = out.trim();
      assert.equal(statusFile, path.join(venv, 'peers.json'));
      const status = JSON.parse(await readFile(statusFile, 'utf8')) as Record<string, { installed: boolean; reason?: string }>;
      assert.deepEqual(Object.keys(status).sort(), ['dlt', 'sling']);
      const { peers, missing } = loadPeers(statusFile, ['sling', 'dlt', 'dlt-defaults'], { url: db.url, source: 'bench_src', workDir: venv });
      assert.deepEqual(peers, []);
      assert.deepEqual(
        missing.map((m) => m.name),
        ['sling', 'dlt', 'dlt-defaults'],
      );
      for (const m of missing) assert.match(m.reason, /no no-such-python3 on PATH/);
      // no status file at all (the install step did not run): reported too
      const none = loadPeers(path.join(venv, 'absent.json'), ['sling'], { url: db.url, source: 'bench_src', workDir: venv });
      assert.match(none.missing[0]?.reason ?? '', /ensure-bench-peers\.sh did not run/);
    } finally {
      await rm(venv, { recursive: true, force: true });
    }
  });
});

/**
 * One execution's events as a fetched history has them (protobuf objects, Long
 * ids and seconds), built in order; times are ms after an arbitrary epoch.
 */
class Execution {
  readonly events: HistoryEvent[] = [];

  constructor(type: string, at: number) {
    this.add(at, { workflowExecutionStartedEventAttributes: { workflowType: { name: type } } });
  }

  private add(at: number, attributes: Record<string, unknown>): number {
    const eventId = this.events.length + 1;
    const t = 1_700_000_000_000 + at;
    this.events.push(proto.temporal.api.history.v1.HistoryEvent.fromObject({ eventId, eventTime: { seconds: Math.floor(t / 1000), nanos: (t % 1000) * 1e6 }, ...attributes }));
    return eventId;
  }

  workflowTask(from: number, to: number): this {
    const scheduledEventId = this.add(from, { workflowTaskScheduledEventAttributes: {} });
    this.add(to, { workflowTaskCompletedEventAttributes: { scheduledEventId } });
    return this;
  }

  schedule(type: string, at: number): number {
    return this.add(at, { activityTaskScheduledEventAttributes: { activityType: { name: type } } });
  }

  start(scheduledEventId: number, at: number, identity: string): this {
    this.add(at, { activityTaskStartedEventAttributes: { scheduledEventId, identity } });
    return this;
  }

  complete(scheduledEventId: number, at: number): this {
    this.add(at, { activityTaskCompletedEventAttributes: { scheduledEventId } });
    return this;
  }

  /** scheduled, started 5 ms later, completed at `to` */
  activity(type: string, from: number, to: number, identity = 'w1'): this {
    const id = this.schedule(type, from - 5);
    return this.start(id, from, identity).complete(id, to);
  }

  child(workflowId: string, runId: string, at: number): this {
    this.add(at, { startChildWorkflowExecutionInitiatedEventAttributes: { workflowId, workflowType: { name: 'loadPartition' } } });
    this.add(at, { childWorkflowExecutionStartedEventAttributes: { workflowExecution: { workflowId, runId }, workflowType: { name: 'loadPartition' } } });
    return this;
  }

  continueAsNew(newExecutionRunId: string, at: number): this {
    this.add(at, { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId } });
    return this;
  }
}

/**
 * A partitioned first load: the stream's chain (2 executions) starts 2 partitions;
 * partition 0 continues as new once and starts a child of its own; partition 1
 * prepares its next batch while it writes one.
 */
function partitionedRun(): Map<string, HistoryEvent[]> {
  const stream = 'bench.pg2pg';
  const p0 = `${stream}/partition-0`;
  const p1 = `${stream}/partition-1`;
  const sub = `${p0}/sub`;
  const p1a = new Execution('loadPartition', 95).workflowTask(95, 100);
  const prep1 = p1a.schedule('prepareBatch', 100);
  p1a.start(prep1, 100, 'w2').complete(prep1, 250);
  const up1 = p1a.schedule('upsertBatch', 250);
  p1a.start(up1, 250, 'w2');
  // the next batch prepared while batch 1 is written: interleaved events
  const prep2 = p1a.schedule('prepareBatch', 260);
  p1a.start(prep2, 265, 'w1').complete(prep2, 400).complete(up1, 600).workflowTask(600, 610);
  const executions: [string, string, Execution][] = [
    [stream, 'r1', new Execution('syncStream', 0).workflowTask(0, 10).activity('beginRun', 15, 50).continueAsNew('r2', 60)],
    [stream, 'r2', new Execution('syncStream', 60).workflowTask(60, 70).child(p0, 'c0a', 80).child(p1, 'c1a', 90).workflowTask(700, 710).activity('finishRun', 720, 740)],
    [p0, 'c0a', new Execution('loadPartition', 85).activity('prepareBatch', 100, 300).activity('upsertBatch', 300, 500).continueAsNew('c0b', 505)],
    [p0, 'c0b', new Execution('loadPartition', 505).child(sub, 'g1', 506).activity('upsertBatch', 510, 700, 'w2')],
    [p1, 'c1a', p1a],
    [sub, 'g1', new Execution('loadPartition', 545).activity('prepareBatch', 550, 600)],
  ];
  return new Map(executions.map(([workflowId, runId, e]) => [`${workflowId} ${runId}`, e.events]));
}

describe('bench history: continue-as-new chains and child workflows', () => {
  it('unions intervals, counting overlaps once', () => {
    assert.equal(unionMs([[0, 10], [5, 20], [30, 40], [40, 45], [50, 50]]), 35);
    assert.equal(unionMs([[10, 20], [0, 100]]), 100);
    assert.equal(unionMs([]), 0);
  });

  it('follows every chain and every child (recursively), each execution once', async () => {
    const histories = partitionedRun();
    const fetched: string[] = [];
    const h = await collectHistory(
      async (workflowId, runId) => {
        const key = `${workflowId} ${runId}`;
        fetched.push(key);
        const events = histories.get(key);
        if (!events) throw new Error(`no such execution: ${key}`);
        return events;
      },
      'bench.pg2pg',
      'r1',
    );
    assert.deepEqual(fetched.sort(), [...histories.keys()].sort());
    assert.equal(h.executions, 6);
    assert.equal(h.childWorkflows, 3);
    assert.equal(h.events, [...histories.values()].reduce((sum, e) => sum + e.length, 0));
    const largest = Math.max(...[...histories.values()].map((e) => e.length));
    assert.equal(h.maxEventsPerExecution, largest);
    assert.deepEqual(
      h.chains?.map((c) => [c.workflowId, c.type, c.executions, c.depth]),
      [
        ['bench.pg2pg', 'syncStream', 2, 0],
        ['bench.pg2pg/partition-0', 'loadPartition', 2, 1],
        ['bench.pg2pg/partition-1', 'loadPartition', 1, 1],
        ['bench.pg2pg/partition-0/sub', 'loadPartition', 1, 2],
      ],
    );
    assert.equal(h.spanMs, 740);

    // summed over the partitions: more than the span; the union: the time some call ran
    const upsert = h.activities.upsertBatch;
    assert.equal(upsert?.count, 3);
    assert.equal(upsert?.runMs, 200 + 190 + 350);
    assert.equal(upsert?.busyMs, 700 - 250);
    const prepare = h.activities.prepareBatch;
    assert.equal(prepare?.count, 4);
    assert.equal(prepare?.runMs, 200 + 150 + 135 + 50);
    assert.equal(prepare?.busyMs, 400 - 100 + (600 - 550));
    assert.deepEqual(Object.keys(h.activities).sort(), ['beginRun', 'finishRun', 'prepareBatch', 'upsertBatch']);
    // beginRun, then every partition's batches (100 → 700), then finishRun
    assert.equal(h.activityBusyMs, 35 + 600 + 20);
    assert.equal(h.workflowTasks, 5);
    assert.equal(h.workflowTaskMs, 10 + 10 + 5 + 10 + 10);
    assert.ok((h.busyMs ?? Infinity) <= h.spanMs);
    assert.deepEqual(h.activitiesByWorker, { w1: 6, w2: 3 });
  });

  it("the report: both full loads, child workflows, and no share of wall above 100% when partitions overlap", async () => {
    const stream = partitionedRun();
    const history = await collectHistory(async (w, r) => stream.get(`${w} ${r}`) ?? [], 'bench.pg2pg', 'r1');
    const single = await collectHistory(async () => new Execution('syncStream', 0).workflowTask(0, 10).activity('prepareBatch', 20, 300).activity('upsertBatch', 300, 900).events, 'bench.pg2pg', 'r1');
    const run = (scenario: RunRecord['scenario'], wallMs: number, extra: Partial<RunRecord> = {}): RunRecord => ({
      scenario, rep: 1, batchSize: 10_000, tableRows: 20_000, records: 20_000, written: 20_000, batches: 2, wallMs, idleRss: 1, peakRss: 2 ** 27, sampledPeakRss: 2 ** 27, ...extra,
    });
    const results: BenchResults = {
      startedAt: '2026-12-01T10:00:00.000Z',
      finishedAt: '2026-12-01T10:01:00.000Z',
      machine: { cpu: 'x', cores: 2, memory: '1 GiB', kernel: 'k', node: 'v22', postgres: 'PostgreSQL 16', temporal: 't', sdk: '1', pg: '8', load: '0' },
      settings: { rows: 20_000, repeat: 1, changed: 10_000, sweep: [], sweepRows: 20_000, sweepRepeat: 1, smallRows: 5_000, batchSize: 10_000, batchChosenBy: 'test', partitions: 4 },
      runs: [
        run('copy-full', 200, { tool: 'copy', cpu: { busy: 0.4, worker: 0, postgres: 0.2, temporal: 0, workerThreads: {} } }),
        run('full', 750, { partitions: 4, history, cpu: { busy: 1.4, worker: 0.8, postgres: 0.4, temporal: 0.1, workerThreads: { main: 0.7, 'node helpers': 0.1 } } }),
        run('full-unpartitioned', 1000, { partitions: 1, history: single }),
        run('incremental', 950, { history: single }),
        run('no-change', 950, { history: single }),
      ],
      strategies: undefined,
      checks: [],
    };
    const report = renderReport(results);
    assert.match(report, /ferry's full loads ask for \*\*4 partitions\*\*/);
    // 4 asked, the stream workflow started 2 (the third child is a partition's own)
    assert.match(report, /\| \*\*ferry\*\* \(`ferry run`, batch 10,000, full load 4 partitions asked, 2 loaded\) \| 750 ms \|/);
    assert.match(report, /\| \*\*full load\*\*, 4 partitions asked, 2 loaded \(no checkpoint\) \| 20,000 \| 750 ms .*\| \d+ \(6 \/ 3 \/ \d+\) \|/);
    assert.match(report, /\| full load, 1 partition \(no checkpoint\) \| 20,000 \| 1\.00 s /);
    assert.match(report, /### Full load, 20,000 rows, batch 10,000, 4 partitions asked, 2 loaded\n\n6 executions, 3 child workflow\(s\)/);
    assert.match(report, /### Full load, 20,000 rows, batch 10,000, 1 partition\n/);
    // aims from the partitioned row: 20,000 rows in 750 ms vs COPY's 200 ms
    assert.match(report, /full load \(4 partitions asked, 2 loaded\) ≥ 0\.6× the COPY pipe's rows\/s \| 26,667 vs 100,000 rows\/s = 0\.27×/);
    assert.match(report, /\| `upsertBatch` \| 3 \| 740 ms \| 450 ms \| 60% \|/);
    assert.doesNotMatch(report, /Not partitioned/);
    // CPU: busy, worker (its main thread), postgres, temporal, the rest, busy ÷ wall; runs measured without it are left out
    assert.match(report, /\| COPY pipe, full load \| 200 ms \| 0\.4 s \| 0\.0 s \| 0\.2 s \| 0\.0 s \| 0\.2 s \| – \| 2\.00 \|/);
    assert.match(report, /\| ferry, full load, 4 partitions asked, 2 loaded \| 750 ms \| 1\.4 s \| 0\.8 s \| 0\.4 s \| 0\.1 s \| 0\.1 s \| 0\.7 s \| 1\.87 \|/);
    assert.doesNotMatch(report, /\| ferry, incremental/);
    // on 2 cores: 1.4 s of CPU takes at least 0.7 s (COPY's 0.2 s wall ÷ 0.7 = 0.29×); Postgres's 0.4 s at least 0.2 s (1.00×)
    assert.match(report, /\*\*What this CPU allows on 2 cores\.\*\* ferry's full load \(4 partitions asked, 2 loaded\) used 1\.4 s of CPU, 0\.4 s of it in Postgres; the COPY pipe used 0\.4 s in all\. Spread over every core, that CPU takes at least 0\.7 s: 0\.29× of COPY's wall \(0\.2 s\) at best\. Postgres's share alone takes at least 0\.2 s \(1\.00× at best\)/);
    const timeSection = report.slice(report.indexOf('## Where the time goes'), report.indexOf('## Machine'));
    const shares = [...timeSection.matchAll(/\| (\d+)% \|/g)].map((m) => Number(m[1]));
    assert.ok(shares.length > 10);
    assert.ok(shares.every((x) => x <= 100), `shares of wall: ${shares.join(', ')}`);

    // a worker that ignores `partitions` (no child workflow) is called out
    const unsplit = renderReport({ ...results, runs: results.runs.map((r) => (r.scenario === 'full' ? { ...r, history: single } : r)) });
    assert.match(unsplit, /\*\*Not partitioned:\*\* 1 full load\(s\) asked for partitions but started no child workflow, so they ran as one load \(full #1\)/);
    assert.match(unsplit, /\| \*\*full load\*\*, 4 partitions \(no checkpoint\) \|/);
  });
});

describe('bench history on a real server: a workflow with children that continue as new', () => {
  // A pipeline step with two streams starts both as child workflows at once: the same
  // shape as a partitioned first load (concurrent children, each with its own
  // continue-as-new chain), from a workflow that exists today.
  let h: Harness;
  const names: string[] = [];
  const pipeline = { name: '', steps: [] as { name: string; streams: string[] }[] };

  before(async () => {
    h = await createHarness('bench_history');
    const streams = [];
    for (const key of ['a', 'b']) {
      const tables = await createCustomerTables(h.db.pool, `_${key}`);
      await seedCustomers(h.db.pool, tables.source, 25);
      const name = h.name(`benchhist.${key}`);
      names.push(name);
      // 5 batches of 5, continue-as-new every 2: 3 executions or more per child
      streams.push(customerStream(name, h.db.url, tables, { batchSize: 5, continueAsNewEvery: 2 }));
    }
    pipeline.name = h.name('benchhist');
    pipeline.steps = [{ name: 'both at once', streams: [...names] }];
    await h.startWorker(streams, [definePipeline(pipeline)]);
  });
  after(() => h.close());

  it("counts every child's chain: executions and events as the server lists them", async () => {
    const handle = await startPipeline(h, pipeline.name);
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded', summary.message);
    const history = await runHistory(h.client, pipelineWorkflowId(pipeline.name), handle.firstExecutionRunId);

    assert.equal(history.childWorkflows, 2);
    assert.deepEqual(
      history.chains?.map((c) => [c.workflowId, c.type, c.depth]).sort(),
      [[pipelineWorkflowId(pipeline.name), 'runPipeline', 0], ...names.map((n) => [n, 'syncStream', 1])].sort(),
    );
    // independently of the walk: every execution under each id, from the visibility store
    // (which may lag a moment behind the workflows' completion)
    const listed = async (workflowId: string) => {
      const found: string[] = [];
      for await (const w of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) if (w.status.name !== 'RUNNING') found.push(w.runId);
      return found;
    };
    let total = 0;
    let events = 0;
    for (const chain of history.chains ?? []) {
      let runIds = await listed(chain.workflowId);
      for (let i = 0; i < 50 && runIds.length < chain.executions; i += 1) {
        await new Promise((r) => setTimeout(r, 200));
        runIds = await listed(chain.workflowId);
      }
      assert.equal(runIds.length, chain.executions, `${chain.workflowId}: executions listed vs walked`);
      if (chain.type === 'syncStream') assert.ok(chain.executions >= 3, `${chain.workflowId} continued as new (${chain.executions} executions)`);
      let chainEvents = 0;
      for (const runId of runIds) chainEvents += (await h.client.workflow.getHandle(chain.workflowId, runId).fetchHistory()).events?.length ?? 0;
      assert.equal(chainEvents, chain.events, `${chain.workflowId}: events`);
      total += runIds.length;
      events += chainEvents;
    }
    assert.equal(history.executions, total);
    assert.equal(history.events, events);
    assert.ok(history.maxEventsPerExecution < history.events);

    // the children's activities are in it: 25 rows each in batches of 5
    assert.ok((history.activities.upsertBatch?.count ?? 0) >= 10, `upsertBatch calls: ${history.activities.upsertBatch?.count}`);
    assert.ok((history.activities.prepareBatch?.count ?? 0) >= 10, `prepareBatch calls: ${history.activities.prepareBatch?.count}`);
    for (const t of Object.values(history.activities)) assert.ok((t.busyMs ?? Infinity) <= t.runMs + 1e-6);
    assert.ok((history.busyMs ?? Infinity) <= history.spanMs);
  });
});
