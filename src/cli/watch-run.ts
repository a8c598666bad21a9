/**
 * `ferry run --wait`: follow one started run to its end, showing progress
 * (polled from the workflow's progress query) and handling Ctrl-C: cancel the
 * run (a real workflow cancellation, honoured at a batch boundary, and then
 * still waited for, so its counts are printed) or detach from it (the run
 * goes on in Temporal; this process leaves).
 */
import { setMaxListeners } from 'node:events';
import type { WorkflowHandle } from '@temporalio/client';
import type { StateDb } from '../state/db.js';
import { getRun } from '../state/runs.js';
import type { Progress } from '../workflows/contracts.js';
import { progressQuery } from '../workflows/definitions.js';
import { listenForInterrupts, type InterruptChoice } from './interrupt.js';
import { createProgressView, type ProgressMode } from './progress.js';
import { awaitOutcome, type RunOutcome } from './run-outcome.js';

export type WatchResult = { kind: 'ended'; outcome: RunOutcome } | { kind: 'detached'; progress: Progress | undefined };

export interface WatchOptions {
  db: StateDb;
  progress: ProgressMode;
  /** how often the progress query is sent (default 1000 ms) */
  pollMs?: number;
}

/**
 * A partitioned load's workflow counts its key ranges as they finish; the run
 * row counts each batch as it commits: shown instead, so progress moves.
 */
async function withCommittedCounts(db: StateDb, p: Progress): Promise<Progress> {
  const row = await getRun(db, p.runId).catch(() => undefined);
  if (!row || row.batches <= p.batches) return p;
  const counts = { ...p.counts, created: row.created, updated: row.updated, skipped: row.skipped, failed: row.failed };
  return { ...p, batches: row.batches, records: Math.max(p.records, counts.created + counts.updated + counts.skipped + counts.failed), counts };
}

export async function watchRun(handle: WorkflowHandle, stream: string, options: WatchOptions): Promise<WatchResult> {
  const view = createProgressView(options.progress, stream);
  let last: Progress | undefined;
  let stopped = false;
  // Cancels the long-poll for the result and the query in flight once we stop watching:
  // left running, they would retry on a closed connection (and keep the process alive).
  // One controller per call: a signal keeps a listener for every call made under it.
  const pending = new Set<AbortController>();
  const untilStopped = <T>(fn: () => Promise<T>): Promise<T> => {
    const call = new AbortController();
    // the result's long-poll makes a call per execution of the chain (continue-as-new), each adding a listener
    setMaxListeners(0, call.signal);
    pending.add(call);
    return handle.client.withAbortSignal(call.signal, fn).finally(() => pending.delete(call));
  };

  // One query at a time; a query fails while no worker has picked the run up, or between
  // continue-as-new executions: the next poll will do.
  const since = Date.now();
  let hinted = false;
  const poll = async () => {
    while (!stopped) {
      if (!last && !hinted && options.progress === 'lines' && Date.now() - since > 10_000) {
        hinted = true;
        view.note(`${stream}: no progress yet — is a worker running on this task queue (npm run worker)?`);
      }
      const queried = await untilStopped(() => handle.query(progressQuery)).catch(() => undefined);
      const p = queried?.partitions ? await withCommittedCounts(options.db, queried) : queried;
      if (stopped) break;
      if (p) {
        last = p;
        view.update(p);
      }
      await new Promise((resolve) => {
        timer = setTimeout(resolve, options.pollMs ?? 1000);
      });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  // not awaited at the end: a query in flight fails when the CLI closes its connection
  void poll();

  let detach!: () => void;
  const detached = new Promise<WatchResult>((resolve) => (detach = () => resolve({ kind: 'detached', progress: last })));
  const onChoice = (choice: InterruptChoice) => {
    if (choice === 'detach') return detach();
    view.note(`${stream}: cancelling — the run stops after the batch in flight (Ctrl-C again to detach)`);
    // A run that ended meanwhile cannot be cancelled: its end is reported as it is.
    handle.cancel().catch(() => undefined);
  };
  const interrupts = listenForInterrupts({
    label: stream,
    beforePrompt: () => view.suspend(),
    afterPrompt: () => view.resume(),
    onChoice,
  });

  const ended = untilStopped(() => awaitOutcome(handle, stream, options.db, () => last?.runId)).then((outcome): WatchResult => ({ kind: 'ended', outcome }));
  try {
    return await Promise.race([ended, detached]);
  } finally {
    stopped = true;
    for (const call of pending) call.abort();
    clearTimeout(timer);
    interrupts.dispose();
    view.stop();
  }
}
