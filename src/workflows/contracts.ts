/**
 * What crosses Temporal history between the stream workflow and its
 * activities: names, cursors, claim-check references and counts — never
 * record data (ARCHITECTURE.md, guarantee 4). Types only: safe to import
 * from workflow code.
 */
import type { StreamPlan } from '../config/define-stream.js';
import type { Cursor, RunCounts, RunMode, RunRowMode, RunStatus } from '../core/types.js';

export interface SyncStreamInput {
  stream: string;
  /** a complete pass from the start, ignoring the checkpoint */
  full?: boolean;
  /** overrides the stream's batch size for this run */
  batchSize?: number;
  /** overrides the stream's `partitions` for this run's first load (1: no partitions) */
  partitions?: number;
  /** set by continue-as-new only */
  carried?: CarriedState;
}

/** What one execution hands the next through continue-as-new. */
export interface CarriedState {
  runId: string;
  plan: StreamPlan;
  mode: RunMode;
  cursor: Cursor | null;
  batches: number;
  records: number;
  counts: RunCounts;
  startedAt: string;
  /** tag the run with ferry's search attributes (absent in runs begun before they existed) */
  searchAttributes?: boolean;
  pair?: string | undefined;
  /** the next batch, prepared while the last one was written (held by a worker) */
  prepared?: PreparedBatch;
}

/**
 * A batch prepared (fetched, validated, mapped) and held in the memory of the
 * worker that prepared it: the claim check. Common to stream runs and replays.
 */
export interface HeldBatchRef {
  batchId: string;
  /** the task queue that reaches only the worker holding the batch: its upsertBatch goes there */
  holder: string;
  /** records read */
  count: number;
  /** records that failed before the target (schema, mapper, a replay's unreplayable dead letters) */
  failed: number;
  done: boolean;
}

/**
 * Asks prepareBatch (or prepareReplayBatch) for a batch again because the
 * worker holding it is gone or evicted it. If that batch had committed before
 * (its worker died before Temporal heard), nothing is fetched: the recorded
 * result comes back instead.
 */
export interface LostBatch {
  batchId: string;
  /** how many times this batch has been prepared again (gives the new attempt its own id) */
  refetch: number;
}

/** The lost batch had committed: its recorded result. */
export interface AlreadyCommitted {
  committed: UpsertBatchOutput;
}

/** A batch of a stream run ready for upsertBatch. */
export interface PreparedBatch extends HeldBatchRef {
  /** rows not kept because a later row of the same page has their key (counted as skipped) */
  superseded: number;
  next: Cursor | null;
}

export interface RunSummary {
  runId: string;
  stream: string;
  /** 'replay': a dead-letter replay (replayDeadLetters), which holds the stream's workflow id too */
  mode: RunRowMode;
  status: Exclude<RunStatus, 'running'>;
  batches: number;
  records: number;
  counts: RunCounts;
  message?: string;
  /** a replay that ran to its end: what became of the dead letters it was asked to replay */
  deadLetters?: ReplayTally;
}

/**
 * The dead letters a replay was asked to replay (selected when it began), how
 * many of them went through and left the queue, and how many are still in it
 * (failed again, or not reached). Status `warning` when any remain.
 */
export interface ReplayTally {
  selected: number;
  replayed: number;
  remaining: number;
}

export interface Progress {
  runId: string;
  stream: string;
  /** 'replay': the stream's workflow is a dead-letter replay (then cursor is { afterDeadLetterId }) */
  mode: RunRowMode;
  phase: 'starting' | 'syncing' | 'deleting' | 'awaiting approval' | 'finishing' | 'done';
  batches: number;
  /** records fetched so far */
  records: number;
  counts: RunCounts;
  cursor: Cursor | null;
  startedAt: string;
  /**
   * A partitioned first load: its key ranges and how many are loaded. Batches,
   * records and counts then cover the loaded ranges only; the run row counts
   * every committed batch (watch-run.ts shows those).
   */
  partitions?: { total: number; loaded: number };
}

export interface BeginRunInput {
  stream: string;
  runId: string;
  workflowId: string;
  /** the chain's first execution, for a link to the Web UI */
  workflowRunId?: string;
  full: boolean;
  batchSize?: number | undefined;
  /** overrides the stream's `partitions` (SyncStreamInput.partitions) */
  partitions?: number | undefined;
  startedAt: string;
}

export interface BeginRunOutput {
  plan: StreamPlan;
  mode: RunMode;
  cursor: Cursor | null;
  /** the pair the stream belongs to, for search */
  pair?: string | undefined;
  /** the worker found ferry's search attributes registered: the run may be tagged */
  searchAttributes?: boolean;
  /** a first load split into key ranges, each loaded by a loadPartition child workflow */
  partitions?: LoadPartitions;
}

/** The key ranges of a first load, and the checkpoint to commit once all are loaded (Source.partition). */
export interface LoadPartitions {
  ranges: Cursor[];
  checkpoint: Cursor | null;
  /**
   * The stream had no binding when its ranges were split. Each key is then read once in the
   * whole load (the ranges are disjoint and each is read in key order) and nothing else writes
   * the stream's bindings meanwhile (one run per stream), so no record of it can have one yet.
   */
  unbound?: boolean;
}

/** One key range of a first load, loaded by its own child workflow into the parent's run. */
export interface LoadPartitionInput {
  runId: string;
  plan: StreamPlan;
  mode: RunMode;
  /** 0-based, of `of` */
  partition: number;
  of: number;
  range: Cursor;
  /** LoadPartitions.unbound */
  unbound?: boolean;
  /** set by continue-as-new only */
  carried?: PartitionState;
}

/** What a partition has done so far: its position in its range and its totals. */
export interface PartitionState {
  cursor: Cursor | null;
  batches: number;
  records: number;
  counts: RunCounts;
  prepared?: PreparedBatch;
}

/** What a finished partition adds to its run. */
export interface PartitionResult {
  batches: number;
  records: number;
  counts: RunCounts;
}

export interface CommitCheckpointInput {
  stream: string;
  runId: string;
  checkpoint: Cursor;
}

export interface PrepareBatchInput {
  stream: string;
  runId: string;
  batchNo: number;
  mode: RunMode;
  cursor: Cursor | null;
  rewind: boolean;
  limit: number;
  /** a partition's key range (FetchRequest.range): `cursor` is then a position inside it */
  range?: Cursor;
  /** set when this batch was prepared before and lost with its worker */
  lost?: LostBatch;
}

export interface BatchInput {
  stream: string;
  runId: string;
  batchId: string;
}

export interface UpsertBatchInput extends BatchInput {
  /** 'replay' writes every record, also one whose version the binding already has (see upsertBatch) */
  mode: RunRowMode;
  /** checkpoint to commit with the batch; null: keep the current one */
  checkpoint: Cursor | null;
  /** no record of the batch can have a binding (LoadPartitions.unbound): they are not looked up */
  unbound?: boolean;
}

export type UpsertBatchOutput = Pick<RunCounts, 'created' | 'updated' | 'skipped' | 'failed'>;

export interface MirrorDeleteInput {
  stream: string;
  runId: string;
  mode: 'mirror' | 'replace';
  maxDeleteFraction: number;
  /** a person approved a delete above the guard (workflows/delete-approval.ts) */
  approved?: boolean;
}

export interface MirrorDeleteOutput {
  deleted: number;
  /** set when the guard stopped the delete */
  warning?: string;
  /** what the run message says of a delete that went through (a person approved it) */
  note?: string;
}

export interface FinishRunOutput {
  /** the worker found ferry's search attributes registered (absent in results recorded before) */
  searchAttributes?: boolean;
}

export interface FinishRunInput {
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  counts: RunCounts;
  batches: number;
  message?: string | undefined;
  error?: string | undefined;
}
