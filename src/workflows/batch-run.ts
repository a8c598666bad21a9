import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { StreamPlan } from '../config/define-stream.js';
import { addCounts, type RunCounts } from '../core/types.js';
import type { AlreadyCommitted, HeldBatchRef, LostBatch, Progress, RunSummary, UpsertBatchInput, UpsertBatchOutput } from './contracts.js';
import { activitiesFor, describeError, holderActivities, isLostBatch } from './run-activities.js';

/**
 * The data path of a run, written once for the stream run (syncStream), the
 * dead-letter replay (replayDeadLetters) and each key range of a partitioned
 * first load (loadPartition):
 *
 *   prepare ─ on the shared queue, any worker: read, validate, map; the batch stays
 *             in that worker's memory (claim check), history gets a reference
 *   write   ─ upsertBatch on the task queue of the worker holding the batch; if that
 *             worker is gone or evicted it, the batch is prepared again from the
 *             same position (or its recorded result taken, when it had committed)
 *
 * with the next batch prepared while one is written (writes stay in order),
 * cancellation honoured between batches, continue-as-new every few batches
 * (carrying the batch prepared ahead), and a run row written however the run ends
 * (endingRun, also used by the partitioned load itself).
 */

/** What every run counts; carried by continue-as-new with the rest of the state. */
export interface RunTotals {
  batches: number;
  records: number;
  counts: RunCounts;
}

/** How a run ended once its last batch was written: the status and message of its run row. */
export interface Ending {
  status: 'succeeded' | 'warning';
  message?: string | undefined;
}

/** How a run ends, whatever reads its batches: the batch loop, or the partitions of a first load. */
export interface RunEnds<S extends RunTotals> {
  plan: StreamPlan;
  runId: string;
  /** 'stream "x"', 'replay of stream "x"': in error and cancel messages */
  what: string;
  /** the failure type of a failed run */
  failureType: string;
  /** false for a partition of a first load: its parent closes the run row and tags the run */
  ownsRun?: boolean;
  /** after the last batch: mirror-delete, the replay's tally… */
  complete(state: S): Promise<{ state: S; ending: Ending; extra?: Partial<RunSummary> }>;
  /** the run row's closing line in the workflow's current details */
  closing(status: RunSummary['status'], state: S, message: string | undefined): string;
  /** tags the finished run for search */
  tag(status: RunSummary['status'], state: S, error: string | undefined, message: string | undefined): void;
  summary(status: RunSummary['status'], state: S): RunSummary;
  cancelled: { betweenBatches: string; otherwise: string };
}

export interface BatchRunSpec<S extends RunTotals, P extends HeldBatchRef, Pos> extends RunEnds<S> {
  /** prepare the next batch while one is written (prepare must then have no effect outside memory) */
  prepareAhead: boolean;
  /** where batch `batchNo` starts, for a run at `state` */
  position(state: S): Pos;
  /** where the batch after `batch` starts */
  after(batch: P): Pos;
  prepare(batchNo: number, from: Pos, lost?: LostBatch): Promise<P | AlreadyCommitted>;
  /** the upsert of a prepared batch; undefined: nothing to write */
  upsert(batch: P): UpsertBatchInput | undefined;
  /** the state after `batch` was written: totals are added by the loop, the rest (the position) here */
  advance(state: S, batch: P): S;
  /** the workflow's current details after each batch */
  progress(state: S): string;
}

/** The run's state and phase as the progress query shows them. */
export interface BatchRunView<S> {
  state: S;
  phase: Progress['phase'];
  /** a partitioned first load: the key ranges loaded so far */
  loadedPartitions?: number;
}

/** How `runBatches` ends when it does not return a summary: continue as new with this state. */
export interface ContinueWith<S, P> {
  state: S;
  prepared: P | undefined;
}

const isCommitted = (x: HeldBatchRef | AlreadyCommitted): x is AlreadyCommitted => 'committed' in x;
/** Lost-batch fallbacks in a row before the run fails (each needs a worker to die or evict). */
const MAX_REFETCHES = 5;

/** Closes the run: its row (unless a partition's), the workflow's details and search attributes. */
type Finish = (status: RunSummary['status'], message?: string, error?: string, extra?: Partial<RunSummary>) => Promise<RunSummary>;

/**
 * Runs `read` (which reads and writes every batch, and returns 'read' when the
 * source is done or the state to continue as new with), then completes and
 * closes the run; a cancel or failure closes it too (the run row says how)
 * and is thrown on, a failure as non-retryable.
 */
export async function endingRun<S extends RunTotals, C>(
  spec: RunEnds<S>,
  view: BatchRunView<S>,
  read: (finish: Finish) => Promise<C | 'read'>,
): Promise<RunSummary | C> {
  const { plan, runId } = spec;
  const acts = activitiesFor(plan);
  const ownsRun = spec.ownsRun ?? true;

  let finished = false;
  const finish: Finish = async (status, message, error, extra) => {
    finished = true;
    view.phase = 'finishing';
    const { state } = view;
    // The run row must be written even while the workflow is being cancelled.
    if (ownsRun) await CancellationScope.nonCancellable(() => acts.finishRun({ runId, status, counts: state.counts, batches: state.batches, message, error }));
    view.phase = 'done';
    setCurrentDetails(spec.closing(status, state, message));
    if (ownsRun) spec.tag(status, state, error, message);
    return { ...spec.summary(status, state), ...(message ? { message } : {}), ...extra };
  };

  try {
    const outcome = await read(finish);
    if (outcome !== 'read') return outcome;
    const { state, ending, extra } = await spec.complete(view.state);
    view.state = state;
    return await finish(ending.status, ending.message, undefined, extra);
  } catch (err) {
    if (isCancellation(err)) {
      if (finished) throw err;
      await finish('cancelled', spec.cancelled.otherwise);
      throw err;
    }
    const error = describeError(err);
    await finish('failed', undefined, error);
    // A plain Error would only retry the workflow task forever; fail the run instead.
    throw ApplicationFailure.nonRetryable(`${spec.what} failed: ${error}`, spec.failureType);
  }
}

/**
 * Runs batches until the source is done (returns the summary), the run is
 * cancelled or fails (closes the run row, throws), or it is time to continue
 * as new (returns the state and the batch prepared ahead, once every handler
 * has finished).
 */
export async function runBatches<S extends RunTotals, P extends HeldBatchRef, Pos>(
  spec: BatchRunSpec<S, P, Pos>,
  view: BatchRunView<S>,
  carried: P | undefined,
): Promise<RunSummary | ContinueWith<S, P>> {
  return endingRun(spec, view, (finish) => readBatches(spec, view, carried, finish));
}

async function readBatches<S extends RunTotals, P extends HeldBatchRef, Pos>(
  spec: BatchRunSpec<S, P, Pos>,
  view: BatchRunView<S>,
  carried: P | undefined,
  finish: Finish,
): Promise<ContinueWith<S, P> | 'read'> {
  const { plan } = spec;

  /** Prepares a batch; its failure is seen when it is awaited, never as an unhandled rejection. */
  const prepare = (batchNo: number, from: Pos, lost?: LostBatch): Promise<P | AlreadyCommitted> => {
    // A batch is never cut in half: its preparation finishes even if the run is cancelled meanwhile.
    const preparing = CancellationScope.nonCancellable(() => spec.prepare(batchNo, from, lost));
    preparing.catch(() => undefined);
    return preparing;
  };
  /** Only a batch prepared again after it was lost can turn out committed. */
  const unexpected = (batchNo: number) => ApplicationFailure.nonRetryable(`${spec.what}: batch ${batchNo} was found committed before it was written`, spec.failureType);

  /**
   * Writes a batch on the worker holding it. A lost batch is prepared again
   * from the same position; when it turns out to have committed already, its
   * recorded result stands. Returns the batch as written (a re-read may end
   * elsewhere than the lost one) and the write's counts.
   */
  const write = async (batchNo: number, from: Pos, first: P): Promise<{ batch: P; written: UpsertBatchOutput }> => {
    let batch = first;
    for (let refetch = 1; ; refetch++) {
      const input = spec.upsert(batch);
      if (!input) return { batch, written: { created: 0, updated: 0, skipped: 0, failed: 0 } };
      try {
        return { batch, written: await CancellationScope.nonCancellable(() => holderActivities(plan, batch.holder).upsertBatch(input)) };
      } catch (err) {
        if (!isLostBatch(err) || refetch > MAX_REFETCHES) throw err;
      }
      const again = await prepare(batchNo, from, { batchId: batch.batchId, refetch });
      if (isCommitted(again)) return { batch, written: again.committed };
      batch = again;
    }
  };

  let ahead: Promise<P | AlreadyCommitted> | undefined = carried ? Promise.resolve(carried) : undefined;
  /** Lets a batch being prepared ahead finish, so that nothing is prepared after the run is closed. */
  const settleAhead = async () => {
    await ahead?.catch(() => undefined);
    ahead = undefined;
  };

  const root = CancellationScope.current();
  let batchesThisExecution = 0;
  try {
    view.phase = 'syncing';
    for (;;) {
      if (root.consideredCancelled) {
        await settleAhead();
        await finish('cancelled', spec.cancelled.betweenBatches);
        throw new CancelledFailure(`${spec.what} cancelled after batch ${view.state.batches}`);
      }
      const batchNo = view.state.batches;
      const from = spec.position(view.state);
      const next = await (ahead ?? prepare(batchNo, from));
      if (isCommitted(next)) throw unexpected(batchNo);
      const startAhead = (b: P) => (!b.done && spec.prepareAhead && !root.consideredCancelled ? prepare(batchNo + 1, spec.after(b)) : undefined);
      ahead = startAhead(next);
      const { batch, written } = await write(batchNo, from, next);
      if (batch !== next && JSON.stringify(spec.after(batch)) !== JSON.stringify(spec.after(next))) {
        // The batch was read again and ends elsewhere: the one prepared ahead starts at the wrong place.
        await settleAhead();
        ahead = startAhead(batch);
      }
      const state = spec.advance(view.state, batch);
      view.state = {
        ...state,
        batches: batchNo + 1,
        records: state.records + batch.count,
        counts: addCounts(state.counts, { ...written, failed: written.failed + batch.failed }),
      };
      batchesThisExecution += 1;
      setCurrentDetails(spec.progress(view.state));
      if (batch.done) break;

      // A cancel that arrived during this batch is honoured at the top of the loop: continuing
      // as new would drop it (and the run row with it).
      if (!root.consideredCancelled && (batchesThisExecution >= plan.continueAsNewEvery || workflowInfo().continueAsNewSuggested)) {
        // The batch prepared ahead goes to the next execution, unless a cancel arrives while it is
        // being finished: then the top of the loop honours it.
        const following = ahead ? await ahead : undefined;
        if (!root.consideredCancelled) {
          if (following && isCommitted(following)) throw unexpected(batchNo + 1);
          ahead = undefined;
          await condition(allHandlersFinished);
          return { state: view.state, prepared: following };
        }
        ahead = following ? Promise.resolve(following) : undefined;
      }
    }
    return 'read';
  } catch (err) {
    await settleAhead();
    throw err;
  }
}

/** A summary, or the state to continue as new with. */
export const isSummary = <S, P>(x: RunSummary | ContinueWith<S, P>): x is RunSummary => 'status' in x;
