import type { ResolvedStep } from '../config/define-pipeline.js';
import type { RunCounts } from '../core/types.js';
import {
  closeAbandonedPipelineRuns,
  finishPipelineRun,
  insertPipelineRun,
  setPipelineSteps,
  streamRunSince,
  writePipelineStep,
} from '../state/pipeline-runs.js';
import type {
  BeginPipelineInput,
  BeginPipelineOutput,
  FinishPipelineInput,
  PipelineStepOutcome,
  PipelineStreamOutcome,
  RecordPipelineStepInput,
} from '../workflows/pipeline-contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

const pending = (steps: readonly ResolvedStep[]): PipelineStepOutcome[] => steps.map((s, i) => ({ ...s, step: i + 1, status: 'pending', runs: [] }));

/**
 * Opens the pipeline run's row, then looks the pipeline up: the row comes
 * first so that a run of an unknown pipeline still leaves one (the workflow
 * closes it with the error).
 */
export function beginPipeline({ db, streams, searchAttributes }: ActivityDeps) {
  return (input: BeginPipelineInput): Promise<BeginPipelineOutput> =>
    heartbeating(async () => {
      const startedAt = new Date(input.startedAt);
      await insertPipelineRun(db, { id: input.runId, pipeline: input.pipeline, workflowId: input.workflowId, trigger: input.trigger, startedAt, steps: [] });
      await closeAbandonedPipelineRuns(db, input.pipeline, input.runId);
      const { steps } = streams.pipeline(input.pipeline);
      await setPipelineSteps(db, input.runId, pending(steps));
      return { steps, searchAttributes: searchAttributes ?? false };
    });
}

/**
 * Writes one step's outcome into the pipeline run's row. A stream run that
 * failed returns no summary to the pipeline: its ferry run id and counts are
 * read from its own run row. Returns the step as written.
 */
export function recordPipelineStep({ db }: ActivityDeps) {
  return (input: RecordPipelineStepInput): Promise<PipelineStepOutcome> =>
    heartbeating(async () => {
      const step = input.step;
      const runs: PipelineStreamOutcome[] = [];
      for (const run of step.runs) {
        if (run.runId || run.status === 'already-running' || !step.startedAt) {
          runs.push(run);
          continue;
        }
        const row = await streamRunSince(db, run.stream, new Date(step.startedAt));
        if (!row) {
          runs.push(run);
          continue;
        }
        const counts: RunCounts = { created: row.created, updated: row.updated, skipped: row.skipped, deleted: row.deleted, failed: row.failed };
        runs.push({ ...run, runId: row.id, counts, ...(row.error && !run.error ? { error: row.error } : {}) });
      }
      const written = { ...step, runs };
      await writePipelineStep(db, input.runId, written);
      return written;
    });
}

/** Writes the pipeline run's final state (idempotent). */
export function finishPipeline({ db, logger }: ActivityDeps) {
  return (input: FinishPipelineInput): Promise<void> =>
    heartbeating(async () => {
      await finishPipelineRun(db, input.runId, input);
      logger.info(
        { pipelineRunId: input.runId, status: input.status, steps: input.steps.map((s) => `${s.step}:${s.status}`).join(' '), message: input.message, error: input.error },
        'pipeline run finished',
      );
    });
}
