/**
 * What crosses Temporal history in a dead-letter replay: the stream name,
 * dead-letter ids, claim-check references and counts — never record data.
 * Types only: safe to import from workflow code.
 */
import type { StreamPlan } from '../config/define-stream.js';
import type { RunCounts } from '../core/types.js';
import type { HeldBatchRef, LostBatch } from './contracts.js';

export interface ReplayDeadLettersInput {
  stream: string;
  /** ferry_dead_letters ids (as text) to replay; absent: every dead letter of the stream */
  ids?: string[];
  /** set by continue-as-new only */
  carried?: ReplayCarriedState;
}

export interface ReplayCarriedState {
  runId: string;
  plan: StreamPlan;
  /** the highest dead-letter id the replay reads (fixed when it begins) */
  maxId: string;
  /** keyset position: the last dead-letter id read */
  afterId: string;
  /** dead letters selected when the replay began */
  selected: number;
  batches: number;
  records: number;
  counts: RunCounts;
  startedAt: string;
  /** tag the run with ferry's search attributes (absent in replays begun before they existed) */
  searchAttributes?: boolean;
}

export interface BeginReplayInput {
  stream: string;
  runId: string;
  workflowId: string;
  /** the chain's first execution, for a link to the Web UI */
  workflowRunId?: string;
  ids?: string[] | undefined;
  startedAt: string;
}

export interface BeginReplayOutput {
  plan: StreamPlan;
  maxId: string;
  selected: number;
  searchAttributes?: boolean;
}

export interface PrepareReplayBatchInput {
  stream: string;
  runId: string;
  batchNo: number;
  ids?: string[] | undefined;
  afterId: string;
  maxId: string;
  limit: number;
  /** set when this page was prepared before and lost with its worker */
  lost?: LostBatch;
}

/** A page of dead letters prepared as a batch, held by a worker (failed counts its unreplayable ones too). */
export interface PreparedReplayBatch extends HeldBatchRef {
  /** of the dead letters read (count), those held for validate -> map -> upsert; 0: nothing to write */
  staged: number;
  /** of those read, not replayable as they are (key or system no longer match the stream): failed again */
  unreplayable: number;
  /** the last id read: where the next page starts */
  lastId: string;
}

export interface CountReplayLeftInput {
  stream: string;
  runId: string;
  ids?: string[] | undefined;
  maxId: string;
}

export interface CountReplayLeftOutput {
  /** the selected dead letters (id <= maxId) still in the queue */
  remaining: number;
  /** of those, failed again by this replay (the rest it did not reach) */
  failedAgain: number;
}
