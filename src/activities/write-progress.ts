import { createHash } from 'node:crypto';
import { asyncLocalStorage } from '@temporalio/activity';
import type { TargetRow } from '../connectors/target.js';
import { serializeKey } from '../core/key.js';
import { heartbeatProgress } from './heartbeat.js';

/**
 * The rows of one upsert activity B already holds, kept across its attempts
 * in Temporal's heartbeat details, so a retried attempt does not send them
 * again (a target writing one request per record, where one flaky record
 * would otherwise make every other be re-sent). The details hold indexes
 * and B's ids only, never record data, plus a fingerprint of the rows: an
 * attempt given other rows (or in another order) starts afresh.
 */
/** Rows whose writes are kept across attempts, at most (about 20 bytes each in the details). */
const MAX_TRACKED_ROWS = 5_000;

interface WrittenDetails {
  ferryWrites: { rows: string; written: [number, string | null][] };
}

const fingerprint = (rows: readonly TargetRow[]) =>
  createHash('sha256')
    .update(JSON.stringify(rows.map((r) => [serializeKey(r.key), r.version, r.internalId])))
    .digest('hex')
    .slice(0, 16);

const isWrittenDetails = (d: unknown): d is WrittenDetails =>
  typeof d === 'object' && d !== null && 'ferryWrites' in d && Array.isArray((d as WrittenDetails).ferryWrites?.written);

export interface WriteProgress {
  /** rows (index into the activity's rows) an earlier attempt wrote, and B's ids */
  readonly written: ReadonlyMap<number, string | null>;
  /** records rows as written (index, B's id): kept for a retried attempt */
  wrote(rows: readonly (readonly [number, string | null])[]): void;
  /** aborted when the activity is cancelled (or its attempt is gone); undefined outside an activity */
  readonly signal: AbortSignal | undefined;
}

/** The progress of this activity's writes of `rows`; outside an activity (a test, the CLI) it remembers nothing. */
export function writeProgress(rows: readonly TargetRow[]): WriteProgress {
  const context = asyncLocalStorage.getStore();
  const written = new Map<number, string | null>();
  if (!context) return { written, wrote: (done) => done.forEach(([i, id]) => written.set(i, id)), signal: undefined };
  // Hashing every row costs a few milliseconds per 10,000: only done when an attempt reports or resumes.
  let rowsPrint: string | undefined;
  const print = () => (rowsPrint ??= fingerprint(rows));
  const earlier: unknown = context.info.heartbeatDetails;
  if (isWrittenDetails(earlier) && earlier.ferryWrites.rows === print()) {
    for (const [i, id] of earlier.ferryWrites.written) if (Number.isInteger(i) && i >= 0 && i < rows.length) written.set(i, id);
  }
  return {
    written,
    wrote(done) {
      if (done.length === 0) return;
      for (const [i, id] of done) written.set(i, id);
      // Heartbeat details are one payload: beyond this many rows they would near Temporal's
      // payload warning, and such batches go to bulk targets whose retry is one call anyway.
      if (written.size > MAX_TRACKED_ROWS) return;
      heartbeatProgress({ ferryWrites: { rows: print(), written: [...written] } } satisfies WrittenDetails);
    },
    signal: context.cancellationSignal,
  };
}
