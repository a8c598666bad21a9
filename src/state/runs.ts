import type { RunCounts, RunRowMode, RunStatus } from '../core/types.js';
import type { StateDb } from './db.js';
import type { RunRow } from './schema.js';

export async function insertRun(
  db: StateDb,
  run: { id: string; stream: string; workflowId: string; workflowRunId?: string | undefined; mode: RunRowMode; startedAt: Date },
): Promise<void> {
  await db
    .insertInto('ferry_runs')
    .values({
      id: run.id,
      stream: run.stream,
      workflow_id: run.workflowId,
      workflow_run_id: run.workflowRunId ?? null,
      mode: run.mode,
      status: 'running',
      started_at: run.startedAt,
      batches: 0,
      created: 0,
      updated: 0,
      skipped: 0,
      deleted: 0,
      failed: 0,
      message: null,
      error: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Marks the stream's older 'running' rows as failed. One run per stream holds
 * (the workflow id is the lock), so when a new run begins any such row belongs
 * to a run that ended without writing its outcome: terminated, or timed out.
 */
export async function closeAbandonedRuns(db: StateDb, stream: string, currentRunId: string): Promise<number> {
  const r = await db
    .updateTable('ferry_runs')
    .set({ status: 'failed', finished_at: new Date(), error: 'abandoned: the run ended without recording an outcome (terminated or timed out)' })
    .where('stream', '=', stream)
    .where('status', '=', 'running')
    .where('id', '<>', currentRunId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  counts: RunCounts;
  batches: number;
  message?: string | undefined;
  error?: string | undefined;
}

/**
 * Adds one committed batch to a running run's row, so a script or `ferry
 * status` sees progress without asking Temporal. Called in the batch's own
 * transaction (exactly once per batch); finishRun writes the exact totals.
 */
export async function addBatchProgress(db: StateDb, runId: string, batch: Pick<RunCounts, 'created' | 'updated' | 'skipped' | 'failed'>): Promise<void> {
  await db
    .updateTable('ferry_runs')
    .set((eb) => ({
      batches: eb('batches', '+', 1),
      created: eb('created', '+', batch.created),
      updated: eb('updated', '+', batch.updated),
      skipped: eb('skipped', '+', batch.skipped),
      failed: eb('failed', '+', batch.failed),
    }))
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .execute();
}

export interface FinishedRun {
  run: RunRow;
  /** true when this call closed a row that was still 'running' (false for a retry writing the same outcome again) */
  transitioned: boolean;
}

/**
 * Writes the final state of a run (idempotent: a retry writes the same row).
 * Says whether the row was still running before, so that what happens once
 * per run (metrics) is not repeated by activity retries; undefined when there
 * is no such row.
 */
export async function finishRun(db: StateDb, runId: string, outcome: RunOutcome): Promise<FinishedRun | undefined> {
  const row = await db
    // `for update`: a concurrent retry waits, then sees the status this call wrote
    .with('previous', (qb) => qb.selectFrom('ferry_runs').select(['id', 'status as previous_status']).where('id', '=', runId).forUpdate())
    .updateTable('ferry_runs')
    .from('previous')
    .set({
      status: outcome.status,
      finished_at: new Date(),
      batches: outcome.batches,
      ...outcome.counts,
      message: outcome.message ?? null,
      error: outcome.error ?? null,
    })
    .whereRef('ferry_runs.id', '=', 'previous.id')
    .returningAll('ferry_runs')
    .returning('previous.previous_status')
    .executeTakeFirst();
  if (!row) return undefined;
  const { previous_status, ...run } = row;
  return { run, transitioned: previous_status === 'running' };
}

export async function recentRuns(db: StateDb, stream: string | undefined, limit: number, status?: RunStatus): Promise<RunRow[]> {
  let q = db.selectFrom('ferry_runs').selectAll().orderBy('started_at', 'desc').limit(limit);
  if (stream) q = q.where('stream', '=', stream);
  if (status) q = q.where('status', '=', status);
  return q.execute();
}

export async function getRun(db: StateDb, runId: string): Promise<RunRow | undefined> {
  return db.selectFrom('ferry_runs').selectAll().where('id', '=', runId).executeTakeFirst();
}
