import { getCheckpoint } from '../state/checkpoints.js';
import { closeAbandonedRuns, insertRun } from '../state/runs.js';
import type { BeginRunInput, BeginRunOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';

/** Checks the stream against the real systems, opens the run row, and says where to start. */
export function beginRun({ db, streams }: ActivityDeps) {
  return async (input: BeginRunInput): Promise<BeginRunOutput> => {
    const stream = streams.get(input.stream);
    await stream.source.check(stream.shape);
    await stream.target.check();
    const mode = input.full || !stream.plan.incremental ? 'full' : 'incremental';
    const checkpoint = mode === 'incremental' ? await getCheckpoint(db, stream.name) : undefined;
    await closeAbandonedRuns(db, stream.name, input.runId);
    await insertRun(db, { id: input.runId, stream: stream.name, workflowId: input.workflowId, mode, startedAt: new Date(input.startedAt) });
    const plan = input.batchSize ? { ...stream.plan, batchSize: input.batchSize } : stream.plan;
    return { plan, mode, cursor: checkpoint?.cursor ?? null };
  };
}
