import { continueAsNew, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { addCounts, formatCounts, zeroCounts, type Cursor } from '../core/types.js';
import { isSummary, runBatches, type BatchRunSpec, type BatchRunView } from './batch-run.js';
import type { CarriedState, LoadPartitions, PreparedBatch, RunSummary, SyncStreamInput } from './contracts.js';
import { loadPartitions } from './partitioned-load.js';
import { mirrorDeleteStep } from './delete-approval.js';
import { progressQuery } from './definitions.js';
import { activitiesFor, beginOrClose, preparingActivities, startupActivities } from './run-activities.js';
import { tagOutcome, tagRun } from './search-attributes.js';

/**
 * One run of one stream (workflow id = stream name, so one run at a time).
 * Pages through the source batch by batch on the shared data path
 * (batch-run.ts: prepared on any worker and held there, written by that
 * worker, the next batch prepared while one is written), with only
 * references, cursors and counts in history; continues as new every few
 * batches; after a complete pass, mirror-deletes within the guard; always
 * leaves a run row.
 */
export async function syncStream(input: SyncStreamInput): Promise<RunSummary> {
  const info = workflowInfo();
  let initial: CarriedState;
  let carried: PreparedBatch | undefined;
  let partitions: LoadPartitions | undefined;
  if (input.carried) {
    const { prepared, ...rest } = input.carried;
    initial = rest;
    // A batch carried by an execution of an earlier version (staged, not held) is simply prepared again.
    carried = prepared && 'holder' in prepared ? prepared : undefined;
  } else {
    const runId = uuid4();
    const startedAt = new Date().toISOString();
    const begun = await beginOrClose(runId, `stream "${input.stream}"`, 'StreamRunFailed', { stream: input.stream, mode: input.full ? 'full' : 'incremental' }, () =>
      startupActivities.beginRun({
        stream: input.stream,
        runId,
        workflowId: info.workflowId,
        workflowRunId: info.firstExecutionRunId,
        full: input.full ?? false,
        batchSize: input.batchSize,
        ...(input.partitions !== undefined ? { partitions: input.partitions } : {}),
        startedAt,
      }),
    );
    partitions = begun.partitions;
    initial = { runId, plan: begun.plan, mode: begun.mode, cursor: begun.cursor, batches: 0, records: 0, counts: zeroCounts(), startedAt, searchAttributes: begun.searchAttributes ?? false, pair: begun.pair };
  }
  const tagged = initial.searchAttributes ?? false;
  tagRun(tagged, { stream: initial.plan.stream, pair: initial.pair, mode: initial.mode });
  const { plan, runId, mode } = initial;
  const acts = activitiesFor(plan);
  const preparing = preparingActivities(plan);

  const view: BatchRunView<CarriedState> = { state: initial, phase: input.carried ? 'syncing' : 'starting' };
  setHandler(progressQuery, () => {
    const { state } = view;
    const split = partitions ? { partitions: { total: partitions.ranges.length, loaded: view.loadedPartitions ?? 0 } } : {};
    return { runId, stream: plan.stream, mode, phase: view.phase, batches: state.batches, records: state.records, counts: state.counts, cursor: state.cursor, startedAt: state.startedAt, ...split };
  });

  const spec: BatchRunSpec<CarriedState, PreparedBatch, Cursor | null> = {
    plan,
    runId,
    what: `stream "${plan.stream}"`,
    failureType: 'StreamRunFailed',
    prepareAhead: true,
    position: (state) => state.cursor,
    after: (batch) => batch.next,
    prepare: (batchNo, cursor, lost) =>
      preparing.prepareBatch({ stream: plan.stream, runId, batchNo, mode, cursor, rewind: batchNo === 0 && mode === 'incremental', limit: plan.batchSize, ...(lost ? { lost } : {}) }),
    upsert: (batch) => ({ stream: plan.stream, runId, batchId: batch.batchId, mode, checkpoint: plan.incremental ? batch.next : null }),
    // rows superseded by a later row of the same key in their page count as skipped
    advance: (state, batch) => ({ ...state, cursor: batch.next, counts: addCounts(state.counts, { skipped: batch.superseded }) }),
    progress: (state) => `batch ${state.batches}, ${state.records} records — ${formatCounts(state.counts)}`,
    async complete(state) {
      if (mode !== 'full' || plan.deletes.mode === 'none') return { state, ending: { status: 'succeeded' } };
      // may wait for a person's approval (delete-approval.ts)
      const removed = await mirrorDeleteStep(acts, plan, runId, (p) => (view.phase = p));
      const after = { ...state, counts: addCounts(state.counts, { deleted: removed.deleted }) };
      return { state: after, ending: removed.warning ? { status: 'warning', message: removed.warning } : { status: 'succeeded', message: removed.note } };
    },
    closing: (status, state, message) => `**${status}** — ${formatCounts(state.counts)} in ${state.batches} batches${message ? `\n\n${message}` : ''}`,
    tag: (status, state, error, message) => tagOutcome(tagged, status, state, `${status}: ${formatCounts(state.counts)}${error ? ` — ${error}` : message ? ` — ${message}` : ''}`),
    summary: (status, state) => ({ runId, stream: plan.stream, mode, status, batches: state.batches, records: state.records, counts: state.counts }),
    cancelled: {
      betweenBatches: 'cancelled between batches; the checkpoint is at the last committed batch',
      otherwise: 'cancelled; the checkpoint is at the last committed batch',
    },
  };
  // A first load split into key ranges (beginRun chose it): child workflows load them (partitioned-load.ts).
  if (partitions) return loadPartitions(spec, view, partitions);
  const outcome = await runBatches(spec, view, carried);
  if (isSummary(outcome)) return outcome;
  return continueAsNew<typeof syncStream>({ stream: input.stream, carried: outcome.prepared ? { ...outcome.state, prepared: outcome.prepared } : outcome.state });
}
