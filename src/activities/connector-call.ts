import { ApplicationFailure } from '@temporalio/activity';
import { isRetryable, TransientWithDelayError } from '../connectors/errors.js';
import { errorMessage } from '../core/errors.js';

/**
 * The one place connector errors become Temporal failures. Every activity
 * that calls a source or target calls it through here:
 * - TransientWithDelayError: a retryable failure with `nextRetryDelay`, so
 *   Temporal's server waits the delay the system asked for before the next
 *   attempt (durable: no sleep in the worker, survives a worker restart);
 * - ConfigurationError, RecordRejectedError (not dead-lettered where thrown):
 *   non-retryable, the run fails at once;
 * - TransientError and anything else: re-thrown as is, retried with the
 *   stream's backoff within its attempts.
 * Only the message crosses into history, never a response body.
 */
export function toTemporalFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  const type = err instanceof Error ? err.name : 'Error';
  if (err instanceof TransientWithDelayError) {
    return ApplicationFailure.create({ type, message: errorMessage(err), nextRetryDelay: err.delayMs, nonRetryable: false });
  }
  if (!isRetryable(err)) return ApplicationFailure.create({ type, message: errorMessage(err), nonRetryable: true });
  return err;
}

/** Runs one call to a connector, mapping what it throws (toTemporalFailure). */
export async function callConnector<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toTemporalFailure(err);
  }
}
