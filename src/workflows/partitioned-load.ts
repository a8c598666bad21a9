import { CancellationScope, ChildWorkflowCancellationType, executeChild, ParentClosePolicy, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { addCounts, formatCounts, type Cursor } from '../core/types.js';
import { endingRun, type BatchRunView, type RunEnds } from './batch-run.js';
import type { CarriedState, LoadPartitions, RunSummary } from './contracts.js';
import { loadPartition } from './load-partition.js';
import { activitiesFor } from './run-activities.js';

/** The child workflow of one key range: under the run's workflow id, so one run's partitions are found beside it. */
export const partitionWorkflowId = (parentId: string, partition: number, of: number) => `${parentId}/partition-${partition + 1}-of-${of}`;

/**
 * A first load split into key ranges (Source.partition, chosen by beginRun):
 * each range is loaded by its own loadPartition child workflow, `atOnce` at a
 * time, on any worker. Once every range is loaded the split's checkpoint is
 * committed, then the run completes as any other (mirror-delete, run row).
 * When one range fails the others are cancelled (each stops at a batch
 * boundary) and the run fails with that range's error; nothing is committed
 * as the stream's checkpoint, so the next run loads again — unchanged records
 * are skipped by their bindings.
 */
export async function loadPartitions(spec: RunEnds<CarriedState>, view: BatchRunView<CarriedState>, partitions: LoadPartitions): Promise<RunSummary> {
  const { plan, runId } = spec;
  const { mode } = view.state;
  const acts = activitiesFor(plan);
  const { ranges, checkpoint, unbound } = partitions;
  const of = ranges.length;
  const atOnce = Math.max(1, Math.min(of, plan.partitions?.atOnce ?? of));
  const parentId = workflowInfo().workflowId;

  const cancelled = 'cancelled; no checkpoint was committed: the next run loads again, skipping what was written';
  return endingRun<CarriedState, never>({ ...spec, cancelled: { betweenBatches: cancelled, otherwise: cancelled } }, view, async () => {
    view.phase = 'syncing';
    let done = 0;
    let next = 0;
    let failure: unknown;
    const loads = new CancellationScope();
    const load = async (partition: number) => {
      const result = await executeChild(loadPartition, {
        workflowId: partitionWorkflowId(parentId, partition, of),
        args: [{ runId, plan, mode, partition, of, range: ranges[partition] as Cursor, ...(unbound ? { unbound } : {}) }],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        // a run terminated (not cancelled) takes its partitions with it; a batch cut short is harmless
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      const { state } = view;
      view.state = { ...state, batches: state.batches + result.batches, records: state.records + result.records, counts: addCounts(state.counts, result.counts) };
      done += 1;
      view.loadedPartitions = done;
      setCurrentDetails(`${done} of ${of} partitions loaded, ${view.state.records} records — ${formatCounts(view.state.counts)}`);
    };
    /** Takes the next range until none is left, or one has failed. */
    const lane = async () => {
      while (next < of && failure === undefined) {
        const partition = next++;
        await load(partition).catch((err: unknown) => {
          if (failure === undefined) {
            failure = err;
            loads.cancel();
          }
        });
      }
    };
    setCurrentDetails(`loading ${of} partitions, ${atOnce} at a time`);
    await loads.run(() => Promise.all(Array.from({ length: atOnce }, lane)));
    if (failure !== undefined) throw failure;
    if (checkpoint !== null && plan.incremental) await acts.commitCheckpoint({ stream: plan.stream, runId, checkpoint });
    return 'read';
  });
}
