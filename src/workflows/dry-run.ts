import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { FerryActivities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import type { DryRunInput, DryRunOutput } from './dry-run-contracts.js';
import { describeError } from './run-activities.js';

/**
 * `ferry run <stream> --dry-run`: one activity that reads the source and the
 * bindings and writes nothing. Its own workflow id (`dry-run:<stream>`), not
 * the stream's: a dry run neither waits for nor blocks a real run; while one
 * runs, the dry run reads a moving picture (bindings as far as that run got).
 * History holds counts and sample keys only.
 */
const acts = proxyActivities<FerryActivities>({
  // a large table is read in one attempt; the heartbeat notices a dead worker
  startToCloseTimeout: '6h',
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export async function dryRun(input: DryRunInput): Promise<DryRunOutput> {
  try {
    return await acts.dryRunStream(input);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`dry run of stream "${input.stream}" failed: ${describeError(err)}`, 'DryRunFailed');
  }
}
