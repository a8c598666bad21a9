/**
 * How a stream run ended, as `ferry run --wait` reports it. A run that returns
 * (succeeded, warning) gives its summary; one that ends by failure or
 * cancellation throws, so its counts come from its run row, which the
 * workflow writes before it ends (guarantee 8).
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { failedRunReason, failedRunStatus } from './start-workflow.js';
import type { RunCounts, RunRowMode, RunStatus } from '../core/types.js';
import type { StateDb } from '../state/db.js';
import { getRun, recentRuns } from '../state/runs.js';
import type { RunSummary } from '../workflows/contracts.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

export interface RunOutcome {
  runId: string;
  stream: string;
  mode: RunRowMode;
  status: Exclude<RunStatus, 'running'>;
  batches: number;
  /** records read; known when the run returned a summary (succeeded, warning) */
  records?: number;
  counts: RunCounts;
  message?: string;
  /** why a failed run failed */
  error?: string;
}

export function exitCodeOf(status: RunOutcome['status']): ExitCodeValue {
  switch (status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'warning':
      return ExitCode.runWarning;
    case 'cancelled':
      return ExitCode.runCancelled;
    default:
      return ExitCode.runFailed;
  }
}

/**
 * Waits for the run behind `handle` to end and tells how. `runIdHint` is the
 * ferry run id when known (from the progress query); otherwise the stream's
 * newest run row is taken: one run per stream, so it is this one.
 */
export async function awaitOutcome(handle: WorkflowHandle, stream: string, db: StateDb, runIdHint: () => string | undefined): Promise<RunOutcome> {
  try {
    return (await handle.result()) as RunSummary;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cancelled = failedRunStatus(err) === 'cancelled';
    const hinted = runIdHint();
    const row = hinted ? await getRun(db, hinted) : (await recentRuns(db, stream, 1))[0];
    const failedBecause = failedRunReason(err);
    // a row still 'running' belongs to a run that ended without writing it (terminated)
    if (!row || row.status === 'running') {
      return {
        runId: row?.id ?? hinted ?? '',
        stream,
        mode: (row?.mode as RunRowMode | undefined) ?? 'incremental',
        status: cancelled ? 'cancelled' : 'failed',
        batches: row?.batches ?? 0,
        counts: { created: row?.created ?? 0, updated: row?.updated ?? 0, skipped: row?.skipped ?? 0, deleted: row?.deleted ?? 0, failed: row?.failed ?? 0 },
        ...(cancelled ? {} : { error: failedBecause }),
      };
    }
    return {
      runId: row.id,
      stream,
      mode: row.mode as RunRowMode,
      status: row.status as RunOutcome['status'],
      batches: row.batches,
      counts: { created: row.created, updated: row.updated, skipped: row.skipped, deleted: row.deleted, failed: row.failed },
      ...(row.message ? { message: row.message } : {}),
      ...(row.status === 'failed' ? { error: failedBecause } : {}),
    };
  }
}
