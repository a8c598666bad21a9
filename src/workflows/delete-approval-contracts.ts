/**
 * A person's decision on a mirror-delete the guard stopped (ARCHITECTURE.md,
 * guarantee 7): the state a run shows while it waits, and the signals that
 * decide. Definitions only: safe to import from workflow and client code.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** What a run waiting for approval would delete; only counts and a few keys (no record data). */
export interface PendingDeleteApproval {
  runId: string;
  stream: string;
  /** bindings the complete pass did not see: what the delete would remove */
  unseen: number;
  /** bindings the stream has */
  total: number;
  /** unseen / total */
  share: number;
  /** the guard's limit the share is above */
  maxDeleteFraction: number;
  /** a few of the keys it would delete, serialized as in the bindings */
  sample: string[];
  /** when the wait began and when it ends without an answer (ISO) */
  since: string;
  until: string;
}

export interface DeleteDecision {
  /** the ferry run the decision is for (from the query): a decision for another run is ignored */
  runId: string;
  /** who decided, for the run's message (a user name; optional) */
  by?: string | undefined;
}

/** The run waiting for approval, or null. */
export const deleteApprovalQuery = defineQuery<PendingDeleteApproval | null>('deleteApproval');
export const approveDeleteSignal = defineSignal<[DeleteDecision]>('approveMirrorDelete');
export const rejectDeleteSignal = defineSignal<[DeleteDecision]>('rejectMirrorDelete');

export interface DeleteGuardInput {
  stream: string;
  runId: string;
  maxDeleteFraction: number;
  sampleSize: number;
}

export interface DeleteGuardOutput {
  total: number;
  unseen: number;
  share: number;
  /** the share is above the guard */
  trips: boolean;
  sample: string[];
}

export interface MarkAwaitingApprovalInput {
  stream: string;
  runId: string;
  /** null: the wait is over */
  pending: PendingDeleteApproval | null;
}

/** '12.5%' */
export const percent = (x: number): string => `${Math.round(x * 1000) / 10}%`;
