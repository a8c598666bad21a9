// Crash safety (ARCHITECTURE.md, guarantee 1): a real worker in a child process
// (`node --import tsx src/worker.ts`) is SIGKILLed mid-run several times, at
// different points; a fresh worker resumes each time, and the target ends
// row-for-row equal to the source, with no duplicates, with counts that count
// every record exactly once, one run row per run and no staging left over.
//
// Some kill points are timed by the clock (a random moment inside a batch);
// the others are pinned with hooks in the test database: a trigger that sleeps
// while its point is "armed", so the worker is caught at an exact step and
// killed there — in beginRun, while upsertBatch writes the target, after
// upsertBatch committed but before Temporal heard of it, in finishRun, and
// between two mirror-delete pages.
//
// Worker output goes to .ferry/crash-workers-<database>.log; the test output
// lists every kill (where, which batch, what was pending, time to resume).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type pg from 'pg';
import { createStateDb } from '../src/state/db.js';
import { migrateToLatest } from '../src/state/migrate.js';
import type { Progress, RunSummary } from '../src/workflows/contracts.js';
import { progressQuery } from '../src/workflows/definitions.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { createCustomerTables, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { chainHistories } from './support/history.js';
import { waitFor, within, workerChildEnv, WorkerChildren } from './support/worker-children.js';

const ROWS = 20_000;
const BATCH = 200;
const HOOK_SLEEP_MS = 1_500;
const RUN_DEADLINE_MS = 150_000;
/**
 * A fresh worker must have the run going again within this: the stream's heartbeat
 * timeout is 3 s, worker start-up takes a few seconds, a dead worker's workflow task
 * times out after 10 s. Far less than any activity's startToCloseTimeout.
 */
const RESUME_BOUND_MS = 60_000;

// ---------------------------------------------------------------- database hooks

/**
 * Points where a worker can be caught: a trigger calls crash_hook(point), which
 * sleeps while the point is armed. The sleeping backend is visible in
 * pg_stat_activity, which is how the test knows where the worker is. The hook
 * only reads crash_hooks, so the test can disarm it while the worker's
 * transaction is still open.
 */
async function installHooks(pool: pg.Pool, target: string): Promise<void> {
  await pool.query(`
    create table crash_hooks (point text primary key, armed boolean not null default false);
    insert into crash_hooks (point) values ('begin'), ('target'), ('commit'), ('delete'), ('finish');
    create function crash_hook() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from crash_hooks where point = tg_argv[0] and armed) then
        perform pg_sleep(${HOOK_SLEEP_MS / 1000});
      end if;
      return null;
    end $$;
    -- beginRun: opening the run row
    create trigger crash_begin after insert on ferry_runs for each row execute function crash_hook('begin');
    -- upsertBatch: the target write, before bindings and checkpoint are committed
    create trigger crash_target after insert on ${target} for each statement execute function crash_hook('target');
    -- upsertBatch: at COMMIT of the state transaction (deferred), i.e. after the worker sent COMMIT
    create constraint trigger crash_commit after insert on ferry_staging deferrable initially deferred
      for each row when (new.stage = 'committed') execute function crash_hook('commit');
    -- finishRun: writing the run's outcome
    create trigger crash_finish after update on ferry_runs for each row
      when (old.status = 'running' and new.status <> 'running') execute function crash_hook('finish');
    -- mirrorDelete: the target delete of each page
    create trigger crash_delete after delete on ${target} for each statement execute function crash_hook('delete');`);
}

async function arm(pool: pg.Pool, point: string, armed = true): Promise<void> {
  await pool.query(`update crash_hooks set armed = $2 where point = $1`, [point, armed]);
}

interface Sleeper {
  pid: number;
  app: string;
  query: string;
}

async function sleepers(pool: pg.Pool): Promise<Sleeper[]> {
  const { rows } = await pool.query<Sleeper>(
    `select pid, application_name as app, query from pg_stat_activity
     where datname = current_database() and wait_event = 'PgSleep' and pid <> pg_backend_pid()`,
  );
  return rows;
}

// ---------------------------------------------------------------- workflow observation

type Handle = WorkflowHandle<typeof syncStream>;

async function progressOf(handle: Handle): Promise<Progress | undefined> {
  try {
    return await within<Progress | undefined>(handle.query(progressQuery), 5_000, async () => undefined);
  } catch {
    return undefined; // no worker, or the handler is not set yet (beginRun)
  }
}

/** The activities the server considers running or waiting for a retry, e.g. "upsertBatch (attempt 1, started)". */
async function pendingOf(handle: Handle): Promise<string> {
  const { raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).map((a) => {
    const state = ({ 1: 'scheduled', 2: 'started', 3: 'cancel requested', 4: 'paused' } as Record<number, string>)[Number(a.state)] ?? '';
    return `${a.activityType?.name ?? '?'} (attempt ${a.attempt ?? '?'}${state ? `, ${state}` : ''})`;
  });
  return pending.join(', ') || 'no activity (workflow task)';
}

interface Kill {
  n: number;
  run: string;
  point: string;
  /** committed batches of the run when the worker died (= the 0-based batch in flight), or the step */
  batch: number | 'beginRun' | 'mirrorDelete' | 'finishRun';
  pending: string;
  note?: string;
  /** Date.now() at the kill */
  at: number;
  recoveredMs?: number;
}

/**
 * One test world: the child workers, the kills made so far, and the steps
 * that kill the current worker at a chosen point and start a fresh one.
 */
class CrashLab {
  readonly kills: Kill[] = [];

  constructor(
    readonly h: Harness,
    readonly workers: WorkerChildren,
  ) {}

  async waitBatches(handle: Handle, n: number): Promise<Progress> {
    return waitFor(`batch ${n}`, async () => {
      const p = await progressOf(handle);
      return p && p.batches >= n ? p : undefined;
    }, RUN_DEADLINE_MS, 50);
  }

  /**
   * SIGKILLs the current worker. A killed worker cannot tell the server that its
   * sticky queue is gone, so the next workflow task would wait there for the
   * sticky schedule-to-start timeout (10 s) before going to the shared queue.
   * Unless `naturalSticky`, the test resets the sticky queue (as a supervisor
   * could) to keep the file short; either way the same history is replayed.
   */
  private async killWorker(handle: Handle, naturalSticky = false): Promise<void> {
    await this.workers.kill();
    if (!naturalSticky) {
      await this.h.client.workflowService.resetStickyTaskQueue({ namespace: this.h.settings.namespace, execution: { workflowId: handle.workflowId } });
    }
  }

  /** Kills at a random moment inside a batch (after at least `n` committed batches). */
  async killRandomly(run: string, handle: Handle, n: number, options: { naturalSticky?: boolean } = {}): Promise<Kill> {
    await this.waitBatches(handle, n);
    await sleep(Math.floor(Math.random() * 250));
    const p = await progressOf(handle);
    await this.killWorker(handle, options.naturalSticky);
    const point = `random moment inside a batch${options.naturalSticky ? ' (sticky queue left to time out)' : ''}`;
    return this.record({ run, point, batch: p?.batches ?? -1, pending: await pendingOf(handle) });
  }

  /**
   * Arms a hook, waits until a worker backend sleeps in it (and `ready` holds),
   * then kills the worker there. With `freezeFirst`, the worker is SIGSTOPped
   * while it waits for Postgres, the statement is let through, and only then
   * is it killed: the database has done the work, Temporal never heard of it.
   * `inspect` runs once the hooked statement is over, for a note on what the
   * database holds at that point.
   */
  async killAtHook(
    run: string,
    handle: Handle,
    point: string,
    label: string,
    options: { freezeFirst?: boolean; ready?: () => Promise<boolean>; inspect?: (batch: number) => Promise<string> } = {},
  ): Promise<Kill> {
    const { pool } = this.h.db;
    await arm(pool, point);
    const sleeper = await waitFor(`a worker in the ${point} hook`, async () => {
      const found = (await sleepers(pool))[0];
      return found && (!options.ready || (await options.ready())) ? found : undefined;
    });
    // Committed batches of this run, read while the worker sleeps in the hook: the batch in flight.
    const committed = Number((await pool.query<{ n: string }>(`select count(*) as n from ferry_staging where stage = 'committed'`)).rows[0]?.n);
    let pending: string;
    if (options.freezeFirst) {
      this.workers.stop();
      await arm(pool, point, false);
      // The sleeping statement finishes and commits; the frozen worker cannot act on it.
      await waitFor('the hooked statement to finish', async () => (await sleepers(pool)).length === 0);
      pending = await pendingOf(handle);
      await this.killWorker(handle);
    } else {
      await this.killWorker(handle);
      await arm(pool, point, false);
      pending = await pendingOf(handle);
      // The orphaned backend finishes its statement (committing it or not); wait for it to settle.
      await waitFor('the orphaned statement to finish', async () => (await sleepers(pool)).length === 0);
    }
    const named: Record<string, Kill['batch']> = { begin: 'beginRun', delete: 'mirrorDelete', finish: 'finishRun' };
    const batch = named[point] ?? committed;
    const notes = [`hooked ${sleeper.app}: ${sleeper.query.replace(/\s+/g, ' ').slice(0, 50)}…`];
    if (options.inspect) notes.push(await options.inspect(committed));
    return this.record({ run, point: label, batch, pending, note: notes.join('; ') });
  }

  /** Records a kill the test made itself. */
  note(kill: Omit<Kill, 'n' | 'at'>): Kill {
    return this.record(kill);
  }

  private record(kill: Omit<Kill, 'n' | 'at'>): Kill {
    const entry = { n: this.kills.length + 1, at: Date.now(), ...kill };
    this.kills.push(entry);
    return entry;
  }

  /** Starts a fresh worker and waits until the run has moved past the batch that was in flight. */
  async resume(handle: Handle, kill: Kill): Promise<void> {
    await this.workers.start();
    await waitFor(`the run to resume after kill #${kill.n}`, async () => {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return true;
      if (kill.batch === 'finishRun') return false; // nothing follows finishRun but the end of the run
      const p = await progressOf(handle);
      // A progress answer after beginRun means beginRun is done (the query is set up after it).
      return p !== undefined && (typeof kill.batch === 'string' || p.batches > kill.batch || p.phase === 'done');
    }, RUN_DEADLINE_MS, 100);
    kill.recoveredMs = Date.now() - kill.at;
  }

  async result(handle: Handle): Promise<RunSummary> {
    return within(handle.result(), RUN_DEADLINE_MS, async () => {
      throw new Error(`run not finished after ${RUN_DEADLINE_MS} ms; pending: ${await pendingOf(handle)}`);
    });
  }

  report(t: TestContext, run: string): void {
    for (const k of this.kills.filter((x) => x.run === run)) {
      const at = typeof k.batch === 'string' ? `in ${k.batch}` : `during batch ${k.batch} (0-based)`;
      t.diagnostic(
        `kill #${k.n} [${run}] ${k.point}, ${at}; pending then: ${k.pending}` +
          `${k.note ? `; ${k.note}` : ''}; running again ${((k.recoveredMs ?? NaN) / 1000).toFixed(1)} s after the kill`,
      );
    }
  }

  /** Every kill of `run` was followed by a resumed run within RESUME_BOUND_MS. */
  assertResumedPromptly(run: string): void {
    const slow = this.kills.filter((k) => k.run === run && (k.recoveredMs ?? Infinity) > RESUME_BOUND_MS);
    assert.deepEqual(
      slow.map((k) => `kill #${k.n} (${k.point}): running again only after ${((k.recoveredMs ?? NaN) / 1000).toFixed(0)} s`),
      [],
      `a fresh worker must pick the run up within ${RESUME_BOUND_MS / 1000} s (the stream's heartbeat timeout is 3 s)`,
    );
  }
}

// ---------------------------------------------------------------- assertions

async function assertConverged(h: Harness, tables: { source: string; target: string }, stream: string): Promise<number> {
  const { pool } = h.db;
  const source = await sourceRows(pool, tables.source);
  const target = await targetRows(pool, tables.target);
  assert.equal(target.length, source.length, 'target row count');
  assert.deepEqual(target, source, 'target equals source row for row');
  const { rows: [dst] } = await pool.query<{ n: string; d: string }>(`select count(*) as n, count(distinct customer_id) as d from ${tables.target}`);
  assert.equal(Number(dst?.n), source.length);
  assert.equal(Number(dst?.d), source.length, 'no duplicate customer_id in the target');
  const { rows: [b] } = await pool.query<{ n: string }>(`select count(*) as n from ferry_bindings where stream = $1`, [stream]);
  assert.equal(Number(b?.n), source.length, 'one binding per source row');
  const { rows: [s] } = await pool.query<{ n: string }>(`select count(*) as n from ferry_staging`);
  assert.equal(Number(s?.n), 0, 'staging is empty after the run');
  return source.length;
}

async function assertRunRow(h: Harness, summary: RunSummary): Promise<void> {
  const { rows } = await h.db.pool.query(`select status, batches, created, updated, skipped, deleted, failed from ferry_runs where id = $1`, [summary.runId]);
  assert.equal(rows.length, 1, 'exactly one run row');
  assert.deepEqual(
    { ...rows[0] },
    { status: summary.status, batches: summary.batches, ...summary.counts },
    'the run row holds the summary',
  );
}

/** How many executions the run's continue-as-new chain has. */
async function executions(h: Harness, workflowId: string): Promise<number> {
  let n = 0;
  let runId: string | undefined = (await h.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    n += 1;
    const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  return n;
}

interface PreparedInHistory {
  batchNo: number;
  batchId: string;
  holder: string;
  /** the batch id this preparation replaces (its worker was gone) */
  lost: string | undefined;
}

/** Every prepareBatch of the run's chain that returned a batch: its number, id, holder, and the lost batch it replaces. */
async function preparedBatches(h: Harness, workflowId: string): Promise<PreparedInHistory[]> {
  const decode = (p: { data?: Uint8Array | null } | undefined): unknown => JSON.parse(Buffer.from(p?.data ?? new Uint8Array()).toString('utf8'));
  const out: PreparedInHistory[] = [];
  for (const history of await chainHistories(h.client, workflowId)) {
    const inputs = new Map<string, { batchNo: number; lost?: { batchId: string } }>();
    for (const event of history.events ?? []) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s?.activityType?.name === 'prepareBatch') inputs.set(String(event.eventId), decode(s.input?.payloads?.[0]) as { batchNo: number; lost?: { batchId: string } });
      const c = event.activityTaskCompletedEventAttributes;
      const input = c && inputs.get(String(c.scheduledEventId));
      if (input) {
        const result = decode(c.result?.payloads?.[0]) as { batchId?: string; holder?: string };
        if (result.batchId && result.holder) out.push({ batchNo: input.batchNo, batchId: result.batchId, holder: result.holder, lost: input.lost?.batchId });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- the test

describe('crash safety: a worker process SIGKILLed mid-run', () => {
  let h: Harness;
  let lab: CrashLab;
  let workers: WorkerChildren | undefined;
  let tables: { source: string; target: string };
  let stream: string;
  const summaries: RunSummary[] = [];
  const started = Date.now();

  before(async () => {
    h = await createHarness('crash');
    tables = await createCustomerTables(h.db.pool);
    stream = h.name('crash.customers');
    // Migrate here so the hooks can be put on the state tables before any worker runs.
    const state = createStateDb(h.db.url, 2);
    await migrateToLatest(state);
    await state.destroy();
    await installHooks(h.db.pool, tables.target);
    await seedCustomers(h.db.pool, tables.source, ROWS);

    workers = new WorkerChildren(
      workerChildEnv(h, 'crash.config.ts', {
        FERRY_CRASH_STREAM: stream,
        FERRY_CRASH_SOURCE_TABLE: tables.source,
        FERRY_CRASH_TARGET_TABLE: tables.target,
        FERRY_CRASH_BATCH_SIZE: String(BATCH),
      }),
      path.join(repoRoot, '.ferry', `crash-workers-${h.db.name}.log`),
    );
    lab = new CrashLab(h, workers);
  });

  after(async () => {
    await workers?.killAll();
    await h?.close();
  });

  const start = (input: { full?: boolean; batchSize?: number } = {}): Promise<Handle> =>
    h.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue: h.settings.taskQueue, args: [{ stream, ...input }] });

  it(`a first run over ${ROWS} rows survives five kills at different points, with the source changing underneath`, async (t) => {
    assert.ok(workers);
    t.diagnostic(`worker logs: ${workers.logFile}`);
    const { pool } = h.db;
    await workers.start();
    const run = 'run 1';
    const t0 = Date.now();

    // 1. Right after the start: in beginRun, while it opens the run row.
    await arm(pool, 'begin');
    const handle = await start();
    await lab.resume(handle, await lab.killAtHook(run, handle, 'begin', 'right after start'));

    // 2. At a random moment inside a batch; this one leaves the dead worker's sticky queue to time out.
    await lab.resume(handle, await lab.killRandomly(run, handle, 12, { naturalSticky: true }));

    // 3. While upsertBatch writes the target: rows may be in B, bindings and checkpoint are not.
    const inTargetOnly = async () => {
      const { rows: [r] } = await pool.query<{ t: string; b: string }>(
        `select (select count(*) from ${tables.target}) as t, (select count(*) from ferry_bindings where stream = $1) as b`, [stream]);
      return `${Number(r?.t) - Number(r?.b)} target rows without a binding afterwards`;
    };
    await lab.resume(handle, await lab.killAtHook(run, handle, 'target', 'upsertBatch writing the target', { inspect: inTargetOnly }));

    // 4. After upsertBatch committed (bindings, checkpoint, 'committed' marker) but before
    //    Temporal heard of it: the retry must return the recorded counts, not recount the batch.
    await lab.waitBatches(handle, 45);
    const markerOf = async (batch: number) => {
      const { rows } = await pool.query<{ batch_id: string }>(`select batch_id from ferry_staging where stage = 'committed' and batch_id like $1`, [`%:${batch}.%`]);
      assert.equal(rows.length, 1, `batch ${batch} was committed before the kill`);
      return `${rows[0]?.batch_id} committed, Temporal not told`;
    };
    const afterCommit = await lab.killAtHook(run, handle, 'commit', 'upsertBatch committed, completion not reported', { freezeFirst: true, inspect: markerOf });
    // (the next batch may be being prepared beside it)
    assert.match(afterCommit.pending, /(^|, )upsertBatch \(attempt \d+, started\)/, 'upsertBatch was still running as far as Temporal knew');
    // While no worker runs: change rows already synced and rows not synced yet, and add rows.
    await pool.query(`update ${tables.source} set score = score + 1000, updated_at = clock_timestamp() where id <= 50 or id between ${ROWS - 99} and ${ROWS - 50}`);
    await seedCustomers(pool, tables.source, 100, ROWS + 1);
    await pool.query(`update ${tables.source} set updated_at = clock_timestamp() where id > $1`, [ROWS]);
    await lab.resume(handle, afterCommit);

    // 5. At a random moment again, further on (each execution is a couple of batches long:
    //    kills land before, inside and after continue-as-new).
    await lab.resume(handle, await lab.killRandomly(run, handle, 75));

    const summary = await lab.result(handle);
    summaries.push(summary);
    lab.report(t, run);
    t.diagnostic(
      `${run}: ${summary.batches} batches, ${summary.records} records, ${JSON.stringify(summary.counts)}, ` +
        `${await executions(h, stream)} executions (continue-as-new), ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );

    assert.equal(summary.status, 'succeeded');
    // Ids 1..50 were changed after they were synced: read twice, updated once. The other 50
    // changed rows and the 100 new ones moved ahead of the cursor before it got there: read once, created.
    assert.deepEqual({ ...summary.counts }, { created: ROWS + 100, updated: 50, skipped: 0, deleted: 0, failed: 0 });
    assert.equal(summary.records, ROWS + 150);
    assert.equal(await assertConverged(h, tables, stream), ROWS + 100);
    await assertRunRow(h, summary);
    lab.assertResumedPromptly(run);
  });

  it('a following incremental run picks up what changed after the first one, and survives a kill in finishRun', async (t) => {
    const { pool } = h.db;
    await pool.query(`update ${tables.source} set name = name || ' (moved)', updated_at = clock_timestamp() where id between 100 and 119`);
    await seedCustomers(pool, tables.source, 20, ROWS + 101);
    await pool.query(`update ${tables.source} set updated_at = clock_timestamp() where id > $1`, [ROWS + 100]);
    // 6. While finishRun writes the run row (the batches are all done; staging not yet cleared).
    await arm(pool, 'finish');
    const handle = await start();
    await lab.resume(handle, await lab.killAtHook('run 2', handle, 'finish', 'finishRun writing the run row'));
    const summary = await lab.result(handle);
    summaries.push(summary);
    lab.report(t, 'run 2');
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 20, updated: 20, skipped: 0, deleted: 0, failed: 0 });
    await assertConverged(h, tables, stream);
    await assertRunRow(h, summary);
    lab.assertResumedPromptly('run 2');
  });

  it('a full pass with mirror-delete survives a kill mid-pass and a kill between delete pages', async (t) => {
    const run = 'full pass';
    const { pool } = h.db;
    const t0 = Date.now();
    // 10,000 more rows, synced by a quick incremental run, so that mirror-delete has three pages (5,000 each).
    await seedCustomers(pool, tables.source, 10_000, 30_001);
    await pool.query(`update ${tables.source} set updated_at = clock_timestamp() where id > 30000`);
    const more = await lab.result(await start({ batchSize: 5_000 }));
    summaries.push(more);
    assert.deepEqual({ status: more.status, ...more.counts }, { status: 'succeeded', created: 10_000, updated: 0, skipped: 0, deleted: 0, failed: 0 });

    const deleted = (await pool.query(`delete from ${tables.source} where id > 30000 or id % 10 = 3`)).rowCount ?? 0;
    await pool.query(`update ${tables.source} set score = score + 7, updated_at = clock_timestamp() where id in (select id from ${tables.source} where id % 10 = 1 order by id limit 25)`);
    const remaining = Number((await pool.query<{ n: string }>(`select count(*) as n from ${tables.source}`)).rows[0]?.n);
    // More than two mirror-delete pages (5,000 bindings each), within the guard (50%).
    assert.ok(deleted > 10_000 && deleted / (deleted + remaining) < 0.5, `deleted ${deleted} of ${deleted + remaining}`);
    const bindingsBefore = deleted + remaining;
    const bindings = async () => Number((await pool.query<{ n: string }>(`select count(*) as n from ferry_bindings where stream = $1`, [stream])).rows[0]?.n);
    assert.equal(await bindings(), bindingsBefore);

    const handle = await start({ full: true, batchSize: 1_000 });

    // 7. At a random moment inside a batch of the pass.
    await lab.resume(handle, await lab.killRandomly(run, handle, 5));

    // 8. In mirror-delete, after the first page (its target rows and bindings gone), while the
    //    second page's target delete runs: the retry must delete the rest and count every deletion once.
    const betweenPages = await lab.killAtHook(run, handle, 'delete', 'mirrorDelete between two pages', {
      ready: async () => (await bindings()) < bindingsBefore,
      inspect: async () => `${bindingsBefore - (await bindings())} bindings deleted before the kill`,
    });
    await lab.resume(handle, betweenPages);

    const summary = await lab.result(handle);
    summaries.push(summary);
    lab.report(t, run);
    t.diagnostic(`${run}: ${summary.batches} batches, ${summary.records} records, ${JSON.stringify(summary.counts)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    assert.equal(summary.status, 'succeeded', summary.message);
    assert.equal(await assertConverged(h, tables, stream), remaining);
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: 25, skipped: remaining - 25, deleted, failed: 0 }, 'every deletion counted once');
    await assertRunRow(h, summary);
    lab.assertResumedPromptly(run);
  });

  it('a batch held in the memory of a worker that is SIGKILLed before writing it is fetched again by the other worker', async (t) => {
    const run = 'held batch';
    const { pool } = h.db;
    const t0 = Date.now();
    assert.ok(workers);
    // Two workers on the queue: the batches of a run spread over both (prepareBatch is not dispatched eagerly).
    await workers.killAll();
    const pair = [await workers.start(), await workers.start()];
    const changed = 1_000;
    await pool.query(`update ${tables.source} set score = score + 3, updated_at = clock_timestamp() where id in (select id from ${tables.source} order by id limit ${changed})`);

    // Hold the run while batch n is written (sleeping in the target hook): batch n+1 has been
    // prepared ahead and sits in the memory of one of the two workers, which no other can read.
    await arm(pool, 'target');
    const handle = await start();
    const heldAhead = await waitFor('a batch prepared ahead while one is written', async () => {
      if ((await sleepers(pool)).length === 0) return undefined;
      const { raw } = await handle.describe();
      if ((raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'prepareBatch')) return undefined;
      const sleeping = (await progressOf(handle))?.batches;
      return sleeping === undefined ? undefined : (await preparedBatches(h, stream)).find((b) => b.batchNo === sleeping + 1);
    });
    const holderPid = Number(/-(\d+)-[0-9a-f]+$/.exec(heldAhead.holder)?.[1]);
    const holder = pair.find((c) => c.pid === holderPid);
    assert.ok(holder, `the holder ${heldAhead.holder} is one of the two workers (${pair.map((c) => c.pid).join(', ')})`);
    const pending = await pendingOf(handle);
    await workers.kill(holder);
    await arm(pool, 'target', false);
    await waitFor('the orphaned statement to finish', async () => (await sleepers(pool)).length === 0);
    const kill = lab.note({ run, point: `worker holding batch ${heldAhead.batchNo} in memory (not yet written)`, batch: heldAhead.batchNo - 1, pending });

    const summary = await lab.result(handle);
    kill.recoveredMs = Date.now() - kill.at;
    summaries.push(summary);
    lab.report(t, run);
    const again = (await preparedBatches(h, stream)).filter((b) => b.lost === heldAhead.batchId);
    t.diagnostic(`${run}: ${summary.batches} batches, ${JSON.stringify(summary.counts)}, batch ${heldAhead.batchNo} held by pid ${holderPid}, fetched again as ${again.map((b) => `${b.batchId} on ${b.holder}`).join(', ') || '(none)'}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    assert.equal(summary.status, 'succeeded', summary.message);
    assert.equal(again.length, 1, `batch ${heldAhead.batchId} was prepared again after its worker died`);
    assert.notEqual(again[0]?.holder, heldAhead.holder, 'by the surviving worker');
    assert.deepEqual({ ...summary.counts }, { created: 0, updated: changed, skipped: 0, deleted: 0, failed: 0 }, 'every changed record written and counted once');
    await assertConverged(h, tables, stream);
    await assertRunRow(h, summary);
    assert.ok(kill.recoveredMs < RESUME_BOUND_MS, `finished ${(kill.recoveredMs / 1000).toFixed(0)} s after the kill`);
  });

  it('leaves exactly one succeeded run row per run', async (t) => {
    const { rows } = await h.db.pool.query<{ id: string; status: string }>(`select id, status from ferry_runs where stream = $1 order by started_at`, [stream]);
    assert.deepEqual(rows, summaries.map((s) => ({ id: s.runId, status: 'succeeded' })));
    t.diagnostic(`${lab.kills.length} kills, ${workers?.started ?? 0} worker processes, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
});
