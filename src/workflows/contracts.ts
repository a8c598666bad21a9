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
  /** the next batch, fetched, validated and mapped while the last one was written */
  prepared?: PreparedBatch;
}

/** A batch ready for upsertBatch: its fetch result and the records that failed before the target. */
export interface PreparedBatch {
  fetched: FetchBatchOutput;
  failed: number;
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
}

export interface BeginRunInput {
  stream: string;
  runId: string;
  workflowId: string;
  /** the chain's first execution, for a link to the Web UI */
  workflowRunId?: string;
  full: boolean;
  batchSize?: number | undefined;
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
}

export interface FetchBatchInput {
  stream: string;
  runId: string;
  batchNo: number;
  mode: RunMode;
  cursor: Cursor | null;
  rewind: boolean;
  limit: number;
}

export interface FetchBatchOutput {
  batchId: string;
  /** rows read */
  count: number;
  /** rows not staged because a later row of the same page has their key (counted as skipped) */
  superseded: number;
  next: Cursor | null;
  done: boolean;
}

export interface BatchInput {
  stream: string;
  runId: string;
  batchId: string;
}

export interface StageOutput {
  passed: number;
  failed: number;
}

export interface UpsertBatchInput extends BatchInput {
  /** 'replay' writes every record, also one whose version the binding already has (see upsertBatch) */
  mode: RunRowMode;
  /** checkpoint to commit with the batch; null: keep the current one */
  checkpoint: Cursor | null;
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
