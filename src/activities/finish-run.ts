import { finishRun as writeRunOutcome } from '../state/runs.js';
import { dropRunStaging } from '../state/staging.js';
import { vacuumChurnedTables } from '../state/vacuum.js';
import type { FinishRunInput, FinishRunOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

/** Writes the run row's final state and clears the run's staging; then vacuums the state store where runs left it bloated. */
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
      // Off the run's clock: the run is done, and a vacuum cut short (worker stopped) is redone after the next run.
      void vacuumChurnedTables(db).then(
        ({ vacuumed }) => vacuumed.length > 0 && logger.info({ runId: input.runId, vacuumed }, 'state store vacuumed'),
        (err: unknown) => logger.warn({ runId: input.runId, err }, 'state store vacuum failed; it is tried again after the next run'),
      );
      return { searchAttributes: searchAttributes ?? false };
    });
}
