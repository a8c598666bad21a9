import type { PipelineStatus, PipelineStepOutcome, RunTrigger } from '../workflows/pipeline-contracts.js';
import type { StateDb } from './db.js';
import type { PipelineRunRow, RunRow } from './schema.js';

const json = (steps: readonly PipelineStepOutcome[]): string => JSON.stringify(steps);

/** Opens a pipeline run's row with every step pending (idempotent: a retried activity writes nothing new). */
export async function insertPipelineRun(
  db: StateDb,
  run: { id: string; pipeline: string; workflowId: string; trigger: RunTrigger; startedAt: Date; steps: readonly PipelineStepOutcome[] },
): Promise<void> {
  await db
    .insertInto('ferry_pipeline_runs')
    .values({
      id: run.id,
      pipeline: run.pipeline,
      workflow_id: run.workflowId,
      trigger: run.trigger,
      status: 'running',
      started_at: run.startedAt,
      steps: json(run.steps),
      message: null,
      error: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Marks the pipeline's older 'running' rows as failed: one run per pipeline
 * holds (the workflow id is the lock), so such a row belongs to a run that
 * ended without writing its outcome (terminated or timed out).
 */
export async function closeAbandonedPipelineRuns(db: StateDb, pipeline: string, currentRunId: string): Promise<number> {
  const r = await db
    .updateTable('ferry_pipeline_runs')
    .set({ status: 'failed', finished_at: new Date(), error: 'abandoned: the pipeline run ended without recording an outcome (terminated or timed out)' })
    .where('pipeline', '=', pipeline)
    .where('status', '=', 'running')
    .where('id', '<>', currentRunId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Sets the row's whole `steps` list (the pending steps, once the pipeline is known). */
export async function setPipelineSteps(db: StateDb, runId: string, steps: readonly PipelineStepOutcome[]): Promise<void> {
  await db.updateTable('ferry_pipeline_runs').set({ steps: json(steps) }).where('id', '=', runId).execute();
}

/** Replaces one step's entry (matched by its 1-based number) in the row's `steps`. */
export async function writePipelineStep(db: StateDb, runId: string, step: PipelineStepOutcome): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('ferry_pipeline_runs').select('steps').where('id', '=', runId).forUpdate().executeTakeFirst();
    if (!row) return;
    const steps = (Array.isArray(row.steps) ? row.steps : []) as unknown as PipelineStepOutcome[];
    const next = steps.some((s) => s.step === step.step) ? steps.map((s) => (s.step === step.step ? step : s)) : [...steps, step];
    await tx.updateTable('ferry_pipeline_runs').set({ steps: json(next) }).where('id', '=', runId).execute();
  });
}

export async function finishPipelineRun(
  db: StateDb,
  runId: string,
  outcome: { status: PipelineStatus; steps: readonly PipelineStepOutcome[]; message?: string | undefined; error?: string | undefined },
): Promise<void> {
  await db
    .updateTable('ferry_pipeline_runs')
    .set({ status: outcome.status, finished_at: new Date(), steps: json(outcome.steps), message: outcome.message ?? null, error: outcome.error ?? null })
    .where('id', '=', runId)
    .execute();
}

export async function getPipelineRun(db: StateDb, runId: string): Promise<PipelineRunRow | undefined> {
  return db.selectFrom('ferry_pipeline_runs').selectAll().where('id', '=', runId).executeTakeFirst();
}

export async function recentPipelineRuns(db: StateDb, pipeline: string | undefined, limit: number): Promise<PipelineRunRow[]> {
  let q = db.selectFrom('ferry_pipeline_runs').selectAll().orderBy('started_at', 'desc').limit(limit);
  if (pipeline) q = q.where('pipeline', '=', pipeline);
  return q.execute();
}

/** The latest run of each named pipeline. */
export async function lastPipelineRuns(db: StateDb, pipelines: readonly string[]): Promise<Map<string, PipelineRunRow>> {
  if (pipelines.length === 0) return new Map();
  const rows = await db
    .selectFrom('ferry_pipeline_runs')
    .selectAll()
    .distinctOn('pipeline')
    .where('pipeline', 'in', [...pipelines])
    .orderBy('pipeline')
    .orderBy('started_at', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.pipeline, r]));
}

/**
 * The stream run a pipeline step started, found by its row when the child
 * workflow failed before returning its summary: the stream's newest run that
 * began at or after the step (one run per stream at a time, so it is ours).
 */
export async function streamRunSince(db: StateDb, stream: string, since: Date): Promise<RunRow | undefined> {
  return db
    .selectFrom('ferry_runs')
    .selectAll()
    .where('stream', '=', stream)
    .where('started_at', '>=', since)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
