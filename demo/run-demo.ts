// The ferry demo (npm run demo → scripts/demo.sh → this file).
//
// Source demo_crm_customers → target demo_app_customers, both in the DATABASE_URL
// database, through the demo.customers stream of ferry.config.ts:
//   1. a first sync of 100k rows,
//   2. source changes (updates, inserts with one invalid record and one the mapper
//      refuses, deletes) and an incremental sync,
//   3. a full pass, which mirror-deletes what the source no longer has,
// then checks that the target equals the source minus the dead-lettered rows.
// A worker runs in this process; the runs go through a Temporal server
// (TEMPORAL_ADDRESS, default 127.0.0.1:7233) like any other client's.
//
// With FERRY_DEMO_EMBEDDED=1 (scripts/demo.sh sets it when there is no DATABASE_URL and no
// PostgreSQL answers), state store, source and target live in an embedded PostgreSQL
// (PGlite) in this process: see embedded-postgres.ts.
//
// Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, FERRY_TASK_QUEUE,
// FERRY_DEMO_ROWS (default 100000), FERRY_DEMO_EMBEDDED, FERRY_DEMO_PGLITE_DIR (PGlite's
// data folder; default: in memory), TEMPORAL_UI_URL (default: the dev server's, port + 1000).
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { FerrySdkLogger } from '../src/sdk-logger.js';
import pg from 'pg';
import type { RunSummary } from '../src/workflows/contracts.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { createDemoTables } from './tables.js';

// ferry logs every finished run at info level; the demo prints its own table instead.
process.env.FERRY_LOG_LEVEL ??= 'warn';
// The SDK logs worker start-up and bundling at info level; keep warnings and errors only.
Runtime.install({ logger: new FerrySdkLogger('WARN') });

// Before anything reads DATABASE_URL (the config file reads it when it is loaded).
let embedded: EmbeddedPostgres | undefined;
if (process.env.FERRY_DEMO_EMBEDDED === '1') {
  embedded = await startEmbeddedPostgres(process.env.FERRY_DEMO_PGLITE_DIR || undefined);
  process.env.DATABASE_URL = embedded.url;
}

const { createFerryWorker } = await import('../src/worker.js');
const { connectClient, temporalSettings } = await import('../src/temporal.js');
const { databaseUrl, redactUrl } = await import('../src/state/db.js');

const STREAM = 'demo.customers';
const SOURCE = 'demo_crm_customers';
const TARGET = 'demo_app_customers';
const RUN_TIMEOUT_MS = 10 * 60_000;
const root = fileURLToPath(new URL('..', import.meta.url));

class DemoFailure extends Error {}

// ------------------------------------------------------------------ output helpers
const n = (x: number) => x.toLocaleString('en-US');
const out = (line = '') => process.stdout.write(`${line}\n`);
const started = Date.now();
async function step<T>(label: string, work: () => Promise<T>, detail?: (value: T) => string): Promise<T> {
  process.stdout.write(`${label} ... `);
  const t0 = Date.now();
  try {
    const value = await work();
    out(`${detail ? `${detail(value)}, ` : ''}${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return value;
  } catch (err) {
    out('FAILED');
    throw err;
  }
}
function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

// ------------------------------------------------------------------ the demo
interface RunResult {
  label: string;
  summary: RunSummary;
  seconds: number;
}

async function main(): Promise<void> {
  const rows = Number(process.env.FERRY_DEMO_ROWS ?? 100_000);
  if (!Number.isInteger(rows) || rows < 1_000 || rows > 5_000_000) throw new DemoFailure(`FERRY_DEMO_ROWS must be a whole number from 1000 to 5000000, got "${process.env.FERRY_DEMO_ROWS}"`);
  const settings = temporalSettings();
  const url = databaseUrl();

  out(`ferry demo: stream ${STREAM} (${SOURCE} -> ${TARGET})`);
  out(`  database  ${redactUrl(url)}${embedded ? ` — embedded PostgreSQL (PGlite) in this process, data ${embedded.dataDir === 'memory' ? 'in memory' : `in ${embedded.dataDir}`}` : ''}`);
  out(`  temporal  ${settings.address}, namespace ${settings.namespace}, task queue ${settings.taskQueue}`);
  out();

  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'ferry-demo' });
  const temporal = await connectClient(settings).catch((err: unknown) => {
    throw new DemoFailure(`cannot reach Temporal at ${settings.address}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const { client } = temporal;
  let ferry: Awaited<ReturnType<typeof createFerryWorker>> | undefined;
  let workerRun: Promise<void> | undefined;
  try {
    // A demo that crashed earlier may have left its run going: it would hold the workflow id.
    await stopEarlierRun(client);
    await warnAboutOtherWorkers(client, settings);

    await step(`1. preparing ${n(rows)} source rows (updated_at 10 s apart, over ${(rows * 10 / 86_400).toFixed(1)} days) and an empty target`, async () => {
      const c = await pool.connect();
      try {
        await createDemoTables(c, rows);
      } finally {
        c.release();
      }
    });

    ferry = await step('2. starting a worker in this process (bundles the workflow code)', () =>
      createFerryWorker({ settings, configFile: path.join(root, 'ferry.config.ts'), databaseUrl: url }),
    );
    ferry.streams.get(STREAM);
    // The demo tables were just recreated: forget what ferry remembers of the stream.
    await pool.query(`delete from ferry_binding_keys where scope_id in (select id from ferry_binding_scopes where stream = $1)`, [STREAM]);
    for (const state of ['ferry_checkpoints', 'ferry_dead_letters', 'ferry_staging', 'ferry_runs']) {
      await pool.query(`delete from ${state} where stream = $1`, [STREAM]);
    }
    const running = ferry.run();
    workerRun = running;
    const workerStopped = running.then(
      () => Promise.reject(new DemoFailure('the worker stopped before the run ended')),
      (err: unknown) => Promise.reject(new DemoFailure(`the worker failed: ${err instanceof Error ? err.message : String(err)}`)),
    );
    workerStopped.catch(() => undefined);

    const runs: RunResult[] = [];
    const sync = async (label: string, full: boolean): Promise<RunSummary> => {
      const result = await runStream(client, settings.taskQueue, pool, full, workerStopped);
      runs.push({ label, ...result });
      return result.summary;
    };

    const first = await step('3. first sync (no checkpoint yet: reads the whole table)', () => sync('1 first sync', false), (s) => `${s.status}, ${n(s.records)} records`);

    const change = await step('4. changing the source', () => changeSource(pool, rows));
    out(`   ${n(change.updated)} updated, ${n(change.inserted)} inserted (one with an invalid email, one with a balance the mapper refuses), ${n(change.deleted)} deleted`);

    const second = await step('5. incremental sync (from the checkpoint, 1-minute look-back)', () => sync('2 after changes', false), (s) => `${s.status}, ${n(s.records)} records`);
    const stale = await pool.query<{ n: string }>(`select count(*) as n from ${TARGET} t where not exists (select 1 from ${SOURCE} s where s.id = t.crm_id)`);
    out(`   the target still holds ${n(Number(stale.rows[0]?.n))} rows the source deleted: an incremental run cannot see deletes`);

    const third = await step('6. full pass (full: true: reads everything, then mirror-deletes)', () => sync('3 full pass', true), (s) => `${s.status}, ${n(s.records)} records`);

    ferry.shutdown();
    await running;
    ferry = undefined;

    // ---------------------------------------------------------------- report
    out();
    out('runs (also: npx ferry status demo.customers)');
    const header = ['run', 'mode', 'status', 'created', 'updated', 'skipped', 'deleted', 'failed', 'records', 'seconds', 'records/s'];
    const body = runs.map(({ label, summary: s, seconds }) => [
      label,
      s.mode,
      s.status,
      n(s.counts.created),
      n(s.counts.updated),
      n(s.counts.skipped),
      n(s.counts.deleted),
      n(s.counts.failed),
      n(s.records),
      seconds.toFixed(1),
      seconds > 0 ? n(Math.round(s.records / seconds)) : '-',
    ]);
    for (const line of table(header, body, new Set([3, 4, 5, 6, 7, 8, 9, 10]))) out(`  ${line}`);
    for (const { label, summary } of runs) if (summary.message) out(`  ${label}: ${summary.message}`);

    const letters = await pool.query<{ record_key: string; stage: string; attempts: number; error: string }>(
      `select record_key, stage, attempts, error from ferry_dead_letters where stream = $1 order by record_key`,
      [STREAM],
    );
    out();
    out(`dead letters (${letters.rowCount}): the run went on without them; each is kept with its error and raw record`);
    out('  (table ferry_dead_letters) and tried again when it changes or on a full pass (hence attempts 2)');
    const letterRows = letters.rows.map((l) => [l.record_key, l.stage, String(l.attempts), l.error.replace(/^stream ".*?", record .*?: /, '')]);
    for (const line of table(['record', 'stage', 'attempts', 'error'], letterRows, new Set([2]))) out(`  ${line}`);

    // ---------------------------------------------------------------- checks
    const problems: string[] = [];
    const expectCounts = (label: string, s: RunSummary, want: Partial<RunSummary['counts']> & { records?: number; mode: string }) => {
      if (s.status !== 'succeeded') problems.push(`${label}: status ${s.status}${s.message ? ` (${s.message})` : ''}`);
      if (s.mode !== want.mode) problems.push(`${label}: mode ${s.mode}, expected ${want.mode}`);
      if (want.records !== undefined && s.records !== want.records) problems.push(`${label}: ${s.records} records, expected ${want.records}`);
      for (const k of ['created', 'updated', 'skipped', 'deleted', 'failed'] as const) {
        const expected = want[k];
        if (expected !== undefined && s.counts[k] !== expected) problems.push(`${label}: ${k} ${s.counts[k]}, expected ${expected}`);
      }
      const sum = s.counts.created + s.counts.updated + s.counts.skipped + s.counts.failed;
      if (sum !== s.records) problems.push(`${label}: created+updated+skipped+failed = ${sum}, but ${s.records} records were read`);
    };
    const rejected = 2;
    const sourceNow = rows - change.deleted + change.inserted;
    expectCounts('run 1', first, { mode: 'incremental', records: rows, created: rows, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    expectCounts('run 2', second, { mode: 'incremental', created: change.inserted - rejected, updated: change.updated, deleted: 0, failed: rejected });
    expectCounts('run 3', third, { mode: 'full', records: sourceNow, created: 0, updated: 0, skipped: sourceNow - rejected, deleted: change.deleted, failed: rejected });
    if (letters.rowCount !== rejected) problems.push(`${letters.rowCount} dead letters, expected ${rejected}`);

    const deadIds = letters.rows.flatMap((l) => {
      try {
        const key: unknown = JSON.parse(l.record_key);
        return Array.isArray(key) && typeof key[0] === 'string' ? [key[0]] : [];
      } catch {
        return [];
      }
    });
    const check = await compareTables(pool, deadIds);
    out();
    out(`check: target has ${n(check.target)} rows; source has ${n(check.source)} rows, ${n(deadIds.length)} of them dead-lettered`);
    if (check.missing > 0) problems.push(`${check.missing} source rows are missing from the target or differ from it`);
    if (check.extra > 0) problems.push(`${check.extra} target rows have no matching source row`);
    if (check.target !== check.source - deadIds.length) problems.push(`target has ${check.target} rows, expected ${check.source - deadIds.length}`);
    if (problems.length) {
      for (const p of problems) out(`  MISMATCH: ${p}`);
      throw new DemoFailure(`${problems.length} check(s) failed`);
    }
    out('  target matches source (every row mapped: email lower-cased, name split, country upper-cased)');

    // ---------------------------------------------------------------- where next
    out();
    await printWhereNext(settings.namespace);
    out();
    out(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } finally {
    if (ferry) {
      ferry.shutdown();
      await workerRun?.catch(() => undefined);
    }
    await temporal.close();
    await pool.end();
    await embedded?.stop();
  }
}

async function stopEarlierRun(client: Client): Promise<void> {
  try {
    const d = await client.workflow.getHandle(STREAM).describe();
    if (d.status.name !== 'RUNNING') return;
    await client.workflow.getHandle(STREAM).terminate('superseded by a new npm run demo');
    out(`0. terminated a ${STREAM} run left over from an earlier demo (workflow run ${d.runId})`);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** Another worker on the demo's task queue would take some of its tasks, with its own config and database. */
async function warnAboutOtherWorkers(client: Client, settings: { namespace: string; taskQueue: string }): Promise<void> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace: settings.namespace,
      taskQueue: { name: settings.taskQueue },
      taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
    });
    const recent = (response.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      if (Date.now() / 1000 - seconds > 70) return false; // a live worker polls again within a minute
      // The server lists a stopped worker for a while (e.g. the previous demo's): skip local pids that are gone.
      const local = /^(\d+)@(.+)$/.exec(p.identity ?? '');
      if (local && local[2] === hostname()) {
        try {
          process.kill(Number(local[1]), 0);
        } catch {
          return false;
        }
      }
      return true;
    });
    if (recent.length === 0) return;
    out(`note: other workers already poll task queue "${settings.taskQueue}" (${recent.map((p) => p.identity).join(', ')}).`);
    out('      They will take some of the demo\'s tasks: harmless if they run this ferry.config.ts against the');
    out('      same DATABASE_URL; otherwise stop them or run the demo with FERRY_TASK_QUEUE=ferry-demo.');
    out();
  } catch {
    // informational only
  }
}

async function runStream(
  client: Client,
  taskQueue: string,
  pool: pg.Pool,
  full: boolean,
  workerStopped: Promise<never>,
): Promise<{ summary: RunSummary; seconds: number }> {
  const handle: WorkflowHandle<typeof syncStream> = await client.workflow.start<typeof syncStream>('syncStream', {
    workflowId: STREAM,
    taskQueue,
    args: [{ stream: STREAM, full }],
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DemoFailure(`the run did not end within ${RUN_TIMEOUT_MS / 60_000} minutes`)), RUN_TIMEOUT_MS);
  });
  let summary: RunSummary;
  try {
    summary = await Promise.race([handle.result(), workerStopped, timeout]);
  } catch (err) {
    await handle.terminate('the demo gave up on this run').catch(() => undefined);
    if (err instanceof WorkflowFailedError) throw new DemoFailure(`the run failed: ${err.cause?.message ?? err.message}`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const { rows } = await pool.query<{ seconds: string | null }>(
    `select extract(epoch from finished_at - started_at) as seconds from ferry_runs where id = $1`,
    [summary.runId],
  );
  return { summary, seconds: Number(rows[0]?.seconds ?? 0) };
}

async function changeSource(pool: pg.Pool, rows: number): Promise<{ updated: number; inserted: number; deleted: number }> {
  const valid = Math.max(10, Math.round(rows / 100));
  const c = await pool.connect();
  try {
    await c.query('begin');
    const updated = await c.query(`update ${SOURCE} set balance = balance + 100, updated_at = clock_timestamp() where id % 50 = 1 and id <= $1`, [rows]);
    const inserted = await c.query(
      `insert into ${SOURCE} (id, email, full_name, country, balance)
       select g, 'New.Customer' || g || '@Example.com', 'New Customer ' || g, 'de', round((random() * 5000)::numeric, 2)
       from generate_series($1::int, $2::int) g`,
      [rows + 1, rows + valid],
    );
    await c.query(
      `insert into ${SOURCE} (id, email, full_name, country, balance) values
         ($1, 'not-an-email', 'Ivan Invalid', 'RU', 10),
         ($2, 'deep.red@example.com', 'Dora Deepred', 'FR', -5000)`,
      [rows + valid + 1, rows + valid + 2],
    );
    const deleted = await c.query(`delete from ${SOURCE} where id % 50 = 2 and id <= $1`, [rows]);
    await c.query('commit');
    return { updated: updated.rowCount ?? 0, inserted: (inserted.rowCount ?? 0) + 2, deleted: deleted.rowCount ?? 0 };
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** The target against the source mapped the way the demo stream's map does it, minus the dead-lettered rows. */
async function compareTables(pool: pg.Pool, deadIds: string[]): Promise<{ source: number; target: number; missing: number; extra: number }> {
  const { rows } = await pool.query<{ source: string; target: string; missing: string; extra: string }>(
    `with expected as (
       select id as crm_id, lower(email) as email, split_part(full_name, ' ', 1) as first_name,
              case when position(' ' in full_name) > 0 then substr(full_name, position(' ' in full_name) + 1) else '' end as last_name,
              upper(country)::text as country, balance, updated_at as source_updated_at
       from ${SOURCE} where id <> all($1::bigint[])
     ), actual as (
       select crm_id, email, first_name, last_name, country::text as country, balance, source_updated_at from ${TARGET}
     )
     select (select count(*) from ${SOURCE}) as source,
            (select count(*) from ${TARGET}) as target,
            (select count(*) from (select * from expected except select * from actual) m) as missing,
            (select count(*) from (select * from actual except select * from expected) e) as extra`,
    [deadIds],
  );
  const r = rows[0];
  return { source: Number(r?.source), target: Number(r?.target), missing: Number(r?.missing), extra: Number(r?.extra) };
}

async function printWhereNext(namespace: string): Promise<void> {
  const address = temporalSettings().address;
  const port = Number(address.split(':').pop());
  const host = address.slice(0, address.lastIndexOf(':')) || '127.0.0.1';
  const uiBase = (process.env.TEMPORAL_UI_URL ?? `http://${host === 'localhost' ? '127.0.0.1' : host}:${port + 1000}`).replace(/\/$/, '');
  const workflows = `${uiBase}/namespaces/${namespace}/workflows`;
  const uiUp = await fetch(uiBase, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.status < 500,
    () => false,
  );
  out(`Temporal Web UI: ${workflows}`);
  if (uiUp) {
    out(`  the three runs are the executions of workflow id "${STREAM}"`);
  } else {
    out(`  (no Web UI answers at ${uiBase}: the Temporal server at ${address} was started without it,`);
    out('   e.g. with --headless. Stop that server and run npm run demo again to get a dev server with the UI.)');
  }
  if (process.env.FERRY_DEMO_STARTED_TEMPORAL) {
    out(`  the demo started this dev server and leaves it running so you can browse it;`);
    out(`  stop it with: scripts/ensure-temporal.sh --stop --port ${port}`);
  }
  out();
  if (embedded) {
    out('this demo ran on an embedded PostgreSQL that ended with it; to keep the data and run the CLI');
    out('against it, run the demo with a PostgreSQL server: DATABASE_URL=postgres://… npm run demo');
    return;
  }
  out('next, with a worker running in another terminal (npm run worker):');
  out(`  npx ferry status ${STREAM}             # runs, checkpoint, dead letters`);
  out(`  npx ferry run ${STREAM} --wait         # incremental: re-reads the minute before the checkpoint, skips it unchanged`);
  out(`  npx ferry run ${STREAM} --full --wait  # a full pass`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // Expected failures (ours, PostgreSQL's, connection refusals) need no stack trace; anything else may be a bug.
    const expected = err instanceof DemoFailure || (err instanceof Error && typeof (err as { code?: unknown }).code === 'string');
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err)}\n`);
    process.exit(1);
  },
);
