import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigurationError } from '../../core/errors.js';
import { durationToMs } from '../../core/duration.js';
import { TransientError, TransientWithDelayError } from '../errors.js';

/**
 * How one record's request is retried inside the call, before the call (the
 * whole activity) is failed: a flaky record then costs its own re-sends, not
 * the batch's.
 */
export interface RecordRetryOptions {
  /** requests per record, the first included; default 6 */
  maximumAttempts?: number;
  /** the wait after the first failure, doubled after each (with jitter); default '200ms' */
  initialInterval?: string | number;
  /** the longest wait between two requests of a record; default '5s' */
  maximumInterval?: string | number;
  /**
   * the longest server-given delay (429/503 Retry-After) waited inside the
   * call; a longer one fails the call and Temporal waits it (durably) before
   * the next attempt; default '30s'
   */
  maximumRetryAfter?: string | number;
}

export interface RecordRetryPolicy {
  attempts: number;
  initialMs: number;
  maxMs: number;
  maxRetryAfterMs: number;
}

export const RECORD_RETRY_DEFAULTS = { maximumAttempts: 6, initialInterval: '200ms', maximumInterval: '5s', maximumRetryAfter: '30s' } as const;

/** The options checked and filled in; false: one request per record and attempt (the activity's retry is the only one). */
export function recordRetryPolicy(options: RecordRetryOptions | false | undefined, what: string): RecordRetryPolicy {
  if (options === false) return { attempts: 1, initialMs: 0, maxMs: 0, maxRetryAfterMs: 0 };
  const o = { ...RECORD_RETRY_DEFAULTS, ...(options ?? {}) };
  if (!Number.isInteger(o.maximumAttempts) || o.maximumAttempts < 1) {
    throw new ConfigurationError(`${what}: field "recordRetry.maximumAttempts": must be a positive integer, got ${JSON.stringify(o.maximumAttempts)}`, 'e.g. recordRetry: { maximumAttempts: 6 }, or false');
  }
  const ms = (field: keyof typeof RECORD_RETRY_DEFAULTS) => {
    const value = durationToMs(o[field]);
    if (value === undefined) throw new ConfigurationError(`${what}: field "recordRetry.${field}": ${JSON.stringify(o[field])} is not a duration`, `e.g. '${RECORD_RETRY_DEFAULTS[field]}'`);
    return value;
  };
  return { attempts: o.maximumAttempts, initialMs: ms('initialInterval'), maxMs: ms('maximumInterval'), maxRetryAfterMs: ms('maximumRetryAfter') };
}

/** Thrown by withRecordRetry when `signal` ends a wait: the record was not written, and the call is stopping anyway. */
export class RetryAborted extends Error {}

/**
 * Runs `attempt` until it succeeds, throws an error that is not transient
 * (rejected record, configuration), or the record's attempts are spent (then
 * its last error is thrown). Between attempts it waits an exponential backoff
 * with jitter, or the server's Retry-After when it gave one (longer than
 * `maxRetryAfterMs`: thrown at once). `signal` ends a wait early.
 */
export async function withRecordRetry<T>(policy: RecordRetryPolicy, attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TransientError) || n >= policy.attempts) throw err;
      if (err instanceof TransientWithDelayError && err.delayMs > policy.maxRetryAfterMs) throw err;
      const backoff = Math.min(policy.maxMs, policy.initialMs * 2 ** (n - 1));
      // half fixed, half random: records that failed together do not come back together
      const wait = err instanceof TransientWithDelayError ? err.delayMs : backoff / 2 + Math.random() * (backoff / 2);
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        throw new RetryAborted('stopped while waiting to retry');
      }
    }
  }
}
