import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { addCounts, formatCounts, zeroCounts, type Cursor } from '../core/types.js';
import type { CarriedState, PreparedBatch, Progress, RunSummary, SyncStreamInput } from './contracts.js';
import { mirrorDeleteStep } from './delete-approval.js';
import { progressQuery } from './definitions.js';
import { activitiesFor, beginOrClose, describeError, startupActivities } from './run-activities.js';
import { tagOutcome, tagRun } from './search-attributes.js';

/**
 * One run of one stream (workflow id = stream name, so one run at a time).
 * Pages through the source batch by batch — fetch, validate, map, upsert,
 * the next batch prepared while one is written — with records staged in the
 * state store and only references, cursors and counts in history; continues
 * as new every few batches; after a complete pass, mirror-deletes within the
 * guard; always leaves a run row.
 */
export async function syncStream(input: SyncStreamInput): Promise<RunSummary> {
  const info = workflowInfo();
  let state: CarriedState;
  let carriedPrepared: PreparedBatch | undefined;
  if (input.carried) {
    const { prepared: carried, ...rest } = input.carried;
    state = rest;
    carriedPrepared = carried;
  } else {
    const runId = uuid4();
    const startedAt = new Date().toISOString();
    const begun = await beginOrClose(runId, `stream "${input.stream}"`, 'StreamRunFailed', { stream: input.stream, mode: input.full ? 'full' : 'incremental' }, () =>
      startupActivities.beginRun({ stream: input.stream, runId, workflowId: info.workflowId, workflowRunId: info.firstExecutionRunId, full: input.full ?? false, batchSize: input.batchSize, startedAt }),
    );
    state = { runId, plan: begun.plan, mode: begun.mode, cursor: begun.cursor, batches: 0, records: 0, counts: zeroCounts(), startedAt, searchAttributes: begun.searchAttributes ?? false, pair: begun.pair };
  }
  const tagged = state.searchAttributes ?? false;
  tagRun(tagged, { stream: state.plan.stream, pair: state.pair, mode: state.mode });
  const { plan, runId, mode } = state;
  const acts = activitiesFor(plan);

  let phase: Progress['phase'] = input.carried ? 'syncing' : 'starting';
  setHandler(progressQuery, () => ({ runId, stream: plan.stream, mode, phase, batches: state.batches, records: state.records, counts: state.counts, cursor: state.cursor, startedAt: state.startedAt }));

  let finished = false;
  const finish = async (status: RunSummary['status'], message?: string, error?: string): Promise<RunSummary> => {
    finished = true;
    phase = 'finishing';
    // The run row must be written even while the workflow is being cancelled.
    await CancellationScope.nonCancellable(() =>
      acts.finishRun({ runId, status, counts: state.counts, batches: state.batches, message, error }),
    );
    phase = 'done';
    setCurrentDetails(`**${status}** — ${formatCounts(state.counts)} in ${state.batches} batches${message ? `\n\n${message}` : ''}`);
    tagOutcome(tagged, status, state, `${status}: ${formatCounts(state.counts)}${error ? ` — ${error}` : message ? ` — ${message}` : ''}`);
    return { runId, stream: plan.stream, mode, status, batches: state.batches, records: state.records, counts: state.counts, ...(message ? { message } : {}) };
  };

  /**
   * Fetch, validate and map of one batch: everything but the write. It has no
   * effect outside staging (its dead letters are staged too), so the next
   * batch can be prepared while this one is written; writes stay in order.
   */
  const prepare = (batchNo: number, cursor: Cursor | null): Promise<PreparedBatch> => {
    const preparing = CancellationScope.nonCancellable(async () => {
      const fetched = await acts.fetchBatch({ stream: plan.stream, runId, batchNo, mode, cursor, rewind: batchNo === 0 && mode === 'incremental', limit: plan.batchSize });
      const ref = { stream: plan.stream, runId, batchId: fetched.batchId };
      const validated = await acts.validateBatch(ref);
      const mapped = await acts.mapBatch(ref);
      return { fetched, failed: validated.failed + mapped.failed };
    });
    // Awaited later: a rejection meanwhile must not count as unhandled (it would fail the workflow task).
    preparing.catch(() => undefined);
    return preparing;
  };
  let ahead: Promise<PreparedBatch> | undefined = carriedPrepared ? Promise.resolve(carriedPrepared) : undefined;
  let prepared: PreparedBatch | undefined;
  /** Lets a batch being prepared ahead finish, so that nothing is staged after the run is closed. */
  const settleAhead = async () => {
    await ahead?.catch(() => undefined);
    ahead = undefined;
  };

  const root = CancellationScope.current();
  let batchesThisExecution = 0;
  let done = false;
  try {
    phase = 'syncing';
    while (!done) {
      if (root.consideredCancelled) {
        await settleAhead();
        await finish('cancelled', 'cancelled between batches; the checkpoint is at the last committed batch');
        throw new CancelledFailure(`stream "${plan.stream}" cancelled after batch ${state.batches}`);
      }
      const batchNo = state.batches;
      // A batch is never cut in half: cancellation is honoured between batches.
      const batch = await (ahead ?? prepare(batchNo, state.cursor));
      ahead = !batch.fetched.done && !root.consideredCancelled ? prepare(batchNo + 1, batch.fetched.next) : undefined;
      const upserted = await CancellationScope.nonCancellable(() =>
        acts.upsertBatch({ stream: plan.stream, runId, batchId: batch.fetched.batchId, mode, checkpoint: plan.incremental ? batch.fetched.next : null }),
      );
      // superseded is absent from fetch results recorded before it existed (runs in flight across an upgrade).
      const skipped = upserted.skipped + (batch.fetched.superseded ?? 0);
      state = {
        ...state,
        cursor: batch.fetched.next,
        batches: batchNo + 1,
        records: state.records + batch.fetched.count,
        counts: addCounts(state.counts, { ...upserted, skipped, failed: upserted.failed + batch.failed }),
      };
      done = batch.fetched.done;
      batchesThisExecution += 1;
      setCurrentDetails(`batch ${state.batches}, ${state.records} records — ${formatCounts(state.counts)}`);

      // A cancel that arrived during this batch is honoured at the top of the loop: continuing
      // as new would drop it (and the run row with it).
      if (!done && !root.consideredCancelled && (batchesThisExecution >= plan.continueAsNewEvery || workflowInfo().continueAsNewSuggested)) {
        // The batch prepared ahead goes to the next execution, unless a cancel arrives while it is
        // being finished: then the top of the loop honours it.
        const next = ahead ? await ahead : undefined;
        if (!root.consideredCancelled) {
          prepared = next;
          ahead = undefined;
          break;
        }
      }
    }

    if (done) {
      let warning: string | undefined;
      let note: string | undefined;
      if (mode === 'full' && plan.deletes.mode !== 'none') {
        const removed = await mirrorDeleteStep(acts, plan, runId, (p) => (phase = p));
        state = { ...state, counts: addCounts(state.counts, { deleted: removed.deleted }) };
        warning = removed.warning;
        note = removed.note;
      }
      return await finish(warning ? 'warning' : 'succeeded', warning ?? note);
    }
  } catch (err) {
    await settleAhead();
    if (isCancellation(err)) {
      if (finished) throw err;
      await finish('cancelled', 'cancelled; the checkpoint is at the last committed batch');
      throw err;
    }
    const error = describeError(err);
    await finish('failed', undefined, error);
    // A plain Error would only retry the workflow task forever; fail the run instead.
    throw ApplicationFailure.nonRetryable(`stream "${plan.stream}" failed: ${error}`, 'StreamRunFailed');
  }

  await condition(allHandlersFinished);
  return continueAsNew<typeof syncStream>({ stream: input.stream, carried: prepared ? { ...state, prepared } : state });
}
