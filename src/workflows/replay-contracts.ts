/**
 * What crosses Temporal history in a dead-letter replay: the stream name,
 * dead-letter ids, claim-check references and counts — never record data.
 * Types only: safe to import from workflow code.
 */
import type { StreamPlan } from '../config/define-stream.js';
import type { RunCounts } from '../core/types.js';

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

export interface StageDeadLettersInput {
  stream: string;
  runId: string;
  batchNo: number;
  ids?: string[] | undefined;
  afterId: string;
  maxId: string;
  limit: number;
}

export interface StageDeadLettersOutput {
  /** the claim check of the staged records (validateBatch, mapBatch and upsertBatch read it) */
  batchId: string;
  /** dead letters read */
  count: number;
  /** of those, staged for validate -> map -> upsert */
  staged: number;
  /** of those, not replayable as they are (key or system no longer match the stream): failed again */
  unreplayable: number;
  /** the last id read: where the next page starts */
  lastId: string;
  done: boolean;
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
