import { continueAsNew } from '@temporalio/workflow';
import { addCounts, formatCounts, zeroCounts, type Cursor } from '../core/types.js';
import { isSummary, runBatches, type BatchRunView } from './batch-run.js';
import type { LoadPartitionInput, PartitionResult, PartitionState, PreparedBatch } from './contracts.js';
import { preparingActivities } from './run-activities.js';

type Totals = Omit<PartitionState, 'prepared'>;

/**
 * One key range of a partitioned first load (partitioned-load.ts), as a child
 * workflow of the stream's run: the same data path as the run itself
 * (batch-run.ts), in key order inside the range, with its position in its own
 * history, so a worker's crash resumes this range where it was and no other.
 * It commits no checkpoint (the parent does, once every range is loaded) and
 * leaves the run row to the parent; its batches count into the run as they commit.
 */
export async function loadPartition(input: LoadPartitionInput): Promise<PartitionResult> {
  const { plan, runId, mode, range, partition, of, unbound } = input;
  const preparing = preparingActivities(plan);
  const { prepared, ...carried } = input.carried ?? { cursor: null, batches: 0, records: 0, counts: zeroCounts() };
  const view: BatchRunView<Totals> = { state: carried, phase: 'syncing' };
  const name = `partition ${partition + 1} of ${of}`;

  const outcome = await runBatches<Totals, PreparedBatch, Cursor | null>(
    {
      plan,
      runId,
      what: `stream "${plan.stream}", ${name}`,
      failureType: 'StreamRunFailed',
      ownsRun: false,
      prepareAhead: true,
      position: (state) => state.cursor,
      after: (batch) => batch.next,
      // Batch numbers interleave over the partitions, so every batch of the run has its own id.
      prepare: (batchNo, cursor, lost) =>
        preparing.prepareBatch({ stream: plan.stream, runId, batchNo: batchNo * of + partition, mode, cursor, rewind: false, limit: plan.batchSize, range, ...(lost ? { lost } : {}) }),
      upsert: (batch) => ({ stream: plan.stream, runId, batchId: batch.batchId, mode, checkpoint: null, ...(unbound ? { unbound } : {}) }),
      advance: (state, batch) => ({ ...state, cursor: batch.next, counts: addCounts(state.counts, { skipped: batch.superseded }) }),
      progress: (state) => `${name}: batch ${state.batches}, ${state.records} records — ${formatCounts(state.counts)}`,
      complete: async (state) => ({ state, ending: { status: 'succeeded' } }),
      closing: (status, state) => `${name} **${status}** — ${formatCounts(state.counts)} in ${state.batches} batches`,
      tag: () => undefined,
      summary: (status, state) => ({ runId, stream: plan.stream, mode, status, batches: state.batches, records: state.records, counts: state.counts }),
      cancelled: { betweenBatches: `${name} cancelled between batches`, otherwise: `${name} cancelled` },
    },
    view,
    prepared,
  );
  if (isSummary(outcome)) return { batches: outcome.batches, records: outcome.records, counts: outcome.counts };
  return continueAsNew<typeof loadPartition>({ ...input, carried: outcome.prepared ? { ...outcome.state, prepared: outcome.prepared } : outcome.state });
}
