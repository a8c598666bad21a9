import { ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { FerryActivities } from '../activities/index.js';
import type { StreamPlan } from '../config/define-stream.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import { zeroCounts } from '../core/types.js';
import { tagOutcome, tagRun, type RunTags } from './search-attributes.js';

/**
 * Activities of a run before its stream's plan is known (beginRun, beginReplay,
 * and closing a run that failed to begin). The heartbeat timeout lets a dead
 * worker's attempt be retried within seconds instead of after startToCloseTimeout.
 */
export const startupActivities = proxyActivities<FerryActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/** Activities of a run with its stream's timeouts and retry policy; configuration errors are never retried. */
export function activitiesFor(plan: StreamPlan) {
  return proxyActivities<FerryActivities>({
    startToCloseTimeout: plan.timeouts.activity,
    heartbeatTimeout: plan.timeouts.heartbeat,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...plan.retry, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
  });
}

/**
 * prepareBatch and prepareReplayBatch: not dispatched eagerly to the worker
 * that runs the workflow, so that the batches of a run spread over every
 * worker polling the shared queue.
 */
export function preparingActivities(plan: StreamPlan) {
  return proxyActivities<FerryActivities>({
    startToCloseTimeout: plan.timeouts.activity,
    heartbeatTimeout: plan.timeouts.heartbeat,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    allowEagerDispatch: false,
    retry: { ...plan.retry, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
  });
}

/**
 * How long an upsert waits on the task queue of the worker holding its batch.
 * That worker polls its own queue all the time, so only a dead (or evicting)
 * worker leaves it waiting: then the batch is prepared again on the shared queue.
 */
export const HOLDER_PICKUP_TIMEOUT = '5s';

/** Thrown by a worker that no longer holds the batch (activities/held-batches.ts: BatchNotHeldError). */
const BATCH_NOT_HELD = 'BatchNotHeldError';

/** upsertBatch on the task queue of the worker holding the batch, with the stream's timeouts and retry policy. */
export function holderActivities(plan: StreamPlan, holder: string) {
  return proxyActivities<FerryActivities>({
    taskQueue: holder,
    scheduleToStartTimeout: HOLDER_PICKUP_TIMEOUT,
    startToCloseTimeout: plan.timeouts.activity,
    heartbeatTimeout: plan.timeouts.heartbeat,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...plan.retry, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, BATCH_NOT_HELD] },
  });
}

/** The batch's worker is gone (nobody picked the upsert up) or no longer holds it: prepare it again. */
export function isLostBatch(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const { cause } = err;
  return (
    (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') ||
    (cause instanceof ApplicationFailure && cause.type === BATCH_NOT_HELD)
  );
}

/** An activity failure says only "Activity task failed"; the reason is its cause. */
export function describeError(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
}

/**
 * Runs the activity that opens a run (beginRun, beginReplay). It writes the run
 * row before checking anything, so when it fails the row is closed here with
 * the reason, and the workflow fails (or stays cancelled) without retrying.
 */
export async function beginOrClose<T>(runId: string, what: string, failureType: string, tags: RunTags, begin: () => Promise<T>): Promise<T> {
  try {
    return await begin();
  } catch (err) {
    const status = isCancellation(err) ? 'cancelled' : 'failed';
    const error = describeError(err);
    const closed = await CancellationScope.nonCancellable(() => startupActivities.finishRun({ runId, status, counts: zeroCounts(), batches: 0, error }));
    // a run that failed to begin is found by a search for failed runs too
    tagRun(closed?.searchAttributes ?? false, tags);
    tagOutcome(closed?.searchAttributes ?? false, status, { records: 0, counts: zeroCounts() }, `${status}: ${error}`);
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.nonRetryable(`${what} failed: ${error}`, failureType);
  }
}
