import { beginRun } from './begin-run.js';
import { commitCheckpoint } from './commit-checkpoint.js';
import type { ActivityDeps } from './deps.js';
import { checkDeleteGuard, markAwaitingApproval } from './delete-guard.js';
import { dryRunStream } from './dry-run.js';
import { releasing } from './held-batches.js';
import { exchangeActivities } from './exchange.js';
import { finishRun } from './finish-run.js';
import { mirrorDelete } from './mirror-delete.js';
import { beginPipeline, finishPipeline, recordPipelineStep } from './pipeline.js';
import { prepareBatch } from './prepare-batch.js';
import { beginReplay, countReplayLeft, prepareReplayBatch } from './replay-dead-letters.js';
import { upsertBatch } from './upsert-batch.js';

export type { ActivityDeps } from './deps.js';

/** The activities of a stream run, bound to the worker's state store and streams. */
export function createActivities(deps: ActivityDeps) {
  return {
    beginRun: beginRun(deps),
    prepareBatch: prepareBatch(deps),
    upsertBatch: releasing(deps.held, upsertBatch(deps)),
    commitCheckpoint: commitCheckpoint(deps),
    mirrorDelete: mirrorDelete(deps),
    checkDeleteGuard: checkDeleteGuard(deps),
    markAwaitingApproval: markAwaitingApproval(deps),
    dryRunStream: dryRunStream(deps),
    finishRun: finishRun(deps),
    beginPipeline: beginPipeline(deps),
    recordPipelineStep: recordPipelineStep(deps),
    finishPipeline: finishPipeline(deps),
    beginReplay: beginReplay(deps),
    prepareReplayBatch: prepareReplayBatch(deps),
    countReplayLeft: countReplayLeft(deps),
    ...exchangeActivities(deps),
  };
}

export type FerryActivities = ReturnType<typeof createActivities>;
