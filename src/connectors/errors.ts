/**
 * The errors a connector throws, and what the engine does with each. Pure:
 * no Temporal here, so a connector imports it without the SDK. The one place
 * that turns them into Temporal failures is `src/activities/connector-call.ts`.
 *
 * | code                          | class                     | the engine                                             |
 * |-------------------------------|---------------------------|--------------------------------------------------------|
 * | `FERRY_RECORD_REJECTED`       | `RecordRejectedError`     | that record to the dead-letter table; the run goes on  |
 * | `FERRY_TRANSIENT`             | `TransientError`          | retries the activity with the stream's backoff         |
 * | `FERRY_TRANSIENT_WITH_DELAY`  | `TransientWithDelayError` | retries after the server-given delay (Temporal's own   |
 * |                               |                           | next-retry delay: durable, not a sleep in the worker)  |
 * | `FERRY_CONFIGURATION`         | `ConfigurationError`      | fails the run at once, retries nothing                 |
 *
 * Anything else a connector throws (a driver's socket error, a timeout) is
 * treated as transient: retried with the stream's backoff, within its
 * `retry.maximumAttempts`.
 */
import { ConfigurationError, FerryError, type FieldIssue } from '../core/errors.js';

export { ConfigurationError };

export const CONNECTOR_ERROR_CODES = {
  /** B (or A) refused one record for its own content (HTTP 4xx, a constraint). Fix the record or the mapping, then `ferry dlq replay`. */
  recordRejected: 'FERRY_RECORD_REJECTED',
  /** A passing fault (5xx, connection reset, timeout). Nothing to do unless it persists past the stream's retry attempts. */
  transient: 'FERRY_TRANSIENT',
  /** The system asked to be called again later (HTTP 429, 503 with Retry-After). Nothing to do; lower the stream's rate if it persists. */
  transientWithDelay: 'FERRY_TRANSIENT_WITH_DELAY',
  /** The stream definition or the system it names is wrong (no such table, bad credentials). Fix the config; retrying cannot help. */
  configuration: 'FERRY_CONFIGURATION',
} as const;

export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[keyof typeof CONNECTOR_ERROR_CODES];

export interface RecordRejectedDetails {
  /** the system's status (an HTTP status, a SQLSTATE), when it gives one */
  status?: string | number;
  /** the system's response body, as text: kept with the dead letter (never logged) */
  body?: string;
  /** the fields the system named as at fault */
  issues?: readonly FieldIssue[];
}

/**
 * The system refused one record for its content. A target that writes one
 * record per call (`capabilities.batchLimit: 1`) throws it; a bulk target
 * reports the row in `UpsertResult.rejected` instead. Thrown from a call of
 * several rows, the engine re-sends the rows in halves until the rejected one
 * is alone (the write is idempotent by key), so nothing else is lost.
 */
export class RecordRejectedError extends FerryError {
  readonly code = CONNECTOR_ERROR_CODES.recordRejected;
  readonly status: string | number | undefined;
  readonly body: string | undefined;
  readonly issues: readonly FieldIssue[];

  constructor(message: string, details: RecordRejectedDetails = {}) {
    super(message);
    this.status = details.status;
    this.body = details.body;
    this.issues = details.issues ?? [];
  }
}

/** A passing fault: the activity is retried with the stream's backoff. */
export class TransientError extends FerryError {
  readonly code: ConnectorErrorCode = CONNECTOR_ERROR_CODES.transient;
}

/**
 * A passing fault with the time the system asked to wait (Retry-After): the
 * next attempt starts no sooner than `delayMs` from now. Still bounded by the
 * stream's `retry.maximumAttempts`.
 */
export class TransientWithDelayError extends TransientError {
  override readonly code = CONNECTOR_ERROR_CODES.transientWithDelay;

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(`${message} (the system asked to retry in ${Math.round(delayMs / 100) / 10}s)`);
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`TransientWithDelayError: delayMs must be a non-negative number, got ${delayMs}`);
  }
}

/** The code of a connector error, or undefined for anything else (which counts as transient). */
export function connectorErrorCode(err: unknown): ConnectorErrorCode | undefined {
  if (err instanceof ConfigurationError) return CONNECTOR_ERROR_CODES.configuration;
  if (err instanceof RecordRejectedError || err instanceof TransientError) return err.code;
  return undefined;
}

/**
 * Whether retrying the same call can help: false for a configuration error and
 * a rejected record (the same record is refused again), true for the rest,
 * unknown errors included.
 */
export function isRetryable(err: unknown): boolean {
  const code = connectorErrorCode(err);
  return code !== CONNECTOR_ERROR_CODES.configuration && code !== CONNECTOR_ERROR_CODES.recordRejected;
}

/**
 * Parses an HTTP `Retry-After` value (seconds, or an HTTP date) into
 * milliseconds from `now`; undefined when it is neither. For HTTP connectors.
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
