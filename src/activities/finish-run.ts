import { finishRun as writeRunOutcome } from '../state/runs.js';
import { dropRunStaging } from '../state/staging.js';
import type { FinishRunInput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

/** Writes the run row's final state and clears the run's staging. */
export function finishRun({ db, logger }: ActivityDeps) {
  return (input: FinishRunInput): Promise<void> =>
    heartbeating(async () => {
      await writeRunOutcome(db, input.runId, input);
      await dropRunStaging(db, input.runId);
      logger.info({ runId: input.runId, status: input.status, ...input.counts, batches: input.batches, message: input.message, error: input.error }, 'run finished');
    });
}
