import { finishRun as writeRunOutcome } from '../state/runs.js';
import { dropRunStaging } from '../state/staging.js';
import type { FinishRunInput, FinishRunOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

/** Writes the run row's final state and clears the run's staging. */
export function finishRun({ db, logger, metrics, searchAttributes }: ActivityDeps) {
  return (input: FinishRunInput): Promise<FinishRunOutput> =>
    heartbeating(async () => {
      const finished = await writeRunOutcome(db, input.runId, input);
      // counted once per run: a retried attempt finds the row already closed
      if (finished?.transitioned) {
        const { run } = finished;
        metrics?.runFinished({ stream: run.stream, status: run.status, startedAt: run.started_at, finishedAt: run.finished_at, counts: input.counts });
      }
      await dropRunStaging(db, input.runId);
      logger.info({ runId: input.runId, status: input.status, ...input.counts, batches: input.batches, message: input.message, error: input.error }, 'run finished');
      return { searchAttributes: searchAttributes ?? false };
    });
}
