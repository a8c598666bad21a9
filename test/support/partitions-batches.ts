// The batches of a partitioned first load as the workflow histories record
// them (test/partitions-crash.test.ts): for each loadPartition child workflow,
// every prepareBatch and upsertBatch it scheduled across its continue-as-new
// chain, with the worker that ran it, when it ended and how. Workers are named
// by pid: an activity's started event carries the worker's identity
// ("<pid>@<host>"), a held batch's holder queue ends in "-<pid>-<random>".
import type { Client } from '@temporalio/client';
import { chainHistories, type History } from './history.js';

type Event = NonNullable<History['events']>[number];

/** Milliseconds since the epoch of an event (server clock). */
export function eventMs(event: Event): number {
  const t = event.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + Math.floor(Number(t?.nanos ?? 0) / 1e6);
}

const pidOfIdentity = (identity: string | null | undefined): number | undefined => (identity ? Number(identity.split('@')[0]) : undefined);

/** The pid in a holder queue (`<shared>/held/<host>-<pid>-<random>`, src/worker.ts). */
export function holderPid(holder: string): number {
  const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(holder)?.[1]);
  if (!Number.isInteger(pid)) throw new Error(`not a holder queue: ${holder}`);
  return pid;
}

const decode = (p: { data?: Uint8Array | null } | null | undefined): unknown =>
  p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined;

/** One scheduled activity of a history and how it ended (only its last attempt is in history). */
export interface ActivityRecord {
  type: string;
  input: unknown;
  taskQueue: string;
  scheduledAt: number;
  /** the worker that ran the last attempt, when one started it */
  by?: number;
  attempt?: number;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'open';
  /** TimeoutType name of a timed-out activity, e.g. 'SCHEDULE_TO_START' */
  timeout?: string;
  endedAt?: number;
  result?: unknown;
}

const TIMEOUT_TYPES: Record<number, string> = { 1: 'START_TO_CLOSE', 2: 'SCHEDULE_TO_START', 3: 'SCHEDULE_TO_CLOSE', 4: 'HEARTBEAT' };
const timeoutName = (t: unknown): string => (typeof t === 'number' ? (TIMEOUT_TYPES[t] ?? String(t)) : String(t).replace(/^TIMEOUT_TYPE_/, ''));

/** Every activity of the histories, in the order they were scheduled. */
export function activityRecords(histories: readonly History[]): ActivityRecord[] {
  const out: ActivityRecord[] = [];
  for (const history of histories) {
    const byId = new Map<string, ActivityRecord>();
    for (const event of history.events ?? []) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s) {
        const record: ActivityRecord = { type: s.activityType?.name ?? '', input: decode(s.input?.payloads?.[0]), taskQueue: s.taskQueue?.name ?? '', scheduledAt: eventMs(event), outcome: 'open' };
        byId.set(String(event.eventId), record);
        out.push(record);
        continue;
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) {
        const record = byId.get(String(started.scheduledEventId));
        if (record) Object.assign(record, { by: pidOfIdentity(started.identity), attempt: started.attempt ?? undefined });
        continue;
      }
      const ended =
        (event.activityTaskCompletedEventAttributes && { outcome: 'completed' as const, a: event.activityTaskCompletedEventAttributes }) ||
        (event.activityTaskFailedEventAttributes && { outcome: 'failed' as const, a: event.activityTaskFailedEventAttributes }) ||
        (event.activityTaskTimedOutEventAttributes && { outcome: 'timed out' as const, a: event.activityTaskTimedOutEventAttributes }) ||
        (event.activityTaskCanceledEventAttributes && { outcome: 'cancelled' as const, a: event.activityTaskCanceledEventAttributes });
      if (!ended) continue;
      const record = byId.get(String(ended.a.scheduledEventId));
      if (!record) continue;
      record.outcome = ended.outcome;
      record.endedAt = eventMs(event);
      if (event.activityTaskCompletedEventAttributes) record.result = decode(event.activityTaskCompletedEventAttributes.result?.payloads?.[0]);
      const timedOut = event.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType;
      if (timedOut !== undefined && timedOut !== null) record.timeout = timeoutName(timedOut);
    }
  }
  return out;
}

/** Workflow tasks completed, by worker pid and time: who drove the workflow when. */
export function workflowTasks(histories: readonly History[]): { by: number | undefined; at: number }[] {
  return histories.flatMap((history) =>
    (history.events ?? []).flatMap((event) => {
      const done = event.workflowTaskCompletedEventAttributes;
      return done ? [{ by: pidOfIdentity(done.identity), at: eventMs(event) }] : [];
    }),
  );
}

/** A key-range position (postgres source): the last key read, or null at the start of the range. */
type Position = { key: string[] } | null;

/** One prepareBatch of a partition. */
export interface PreparedStep {
  /** the partition's own batch number (the activity's batchNo is batchNo × of + partition) */
  batchNo: number;
  /** where it read from: the last key before it, null at the start of the range */
  from: string | null;
  /** the batch id this preparation replaces, its worker being gone */
  lost?: string;
  record: ActivityRecord;
  /** result of a preparation that read the source */
  batch?: { batchId: string; holder: string; holderPid: number; count: number; next: string | null; done: boolean };
  /** a lost batch that had committed before its worker died (nothing read) */
  committed?: boolean;
}

/** One upsertBatch of a partition. */
export interface UpsertStep {
  batchId: string;
  record: ActivityRecord;
}

export interface PartitionBatches {
  workflowId: string;
  executions: number;
  prepared: PreparedStep[];
  upserts: UpsertStep[];
  tasks: { by: number | undefined; at: number }[];
}

const keyOf = (p: Position | undefined): string | null => (p ? (p.key[0] ?? null) : null);

/** The batches of one loadPartition child workflow (`of` ranges in its run), across its continue-as-new chain. */
export async function partitionBatches(client: Client, workflowId: string, of: number): Promise<PartitionBatches> {
  const histories = await chainHistories(client, workflowId);
  const records = activityRecords(histories);
  const prepared: PreparedStep[] = [];
  const upserts: UpsertStep[] = [];
  for (const record of records) {
    if (record.type === 'prepareBatch') {
      const input = record.input as { batchNo: number; cursor: Position; lost?: { batchId: string } };
      const step: PreparedStep = { batchNo: Math.floor(input.batchNo / of), from: keyOf(input.cursor), record, ...(input.lost ? { lost: input.lost.batchId } : {}) };
      const result = record.result as { batchId?: string; holder?: string; count?: number; next?: Position; done?: boolean; committed?: unknown } | undefined;
      if (result?.batchId && result.holder) {
        step.batch = { batchId: result.batchId, holder: result.holder, holderPid: holderPid(result.holder), count: result.count ?? 0, next: keyOf(result.next), done: result.done ?? false };
      } else if (result?.committed) step.committed = true;
      prepared.push(step);
    } else if (record.type === 'upsertBatch') {
      upserts.push({ batchId: (record.input as { batchId: string }).batchId, record });
    }
  }
  return { workflowId, executions: histories.length, prepared, upserts, tasks: workflowTasks(histories) };
}

/** The child workflow ids a workflow's history started, in order. */
export function startedChildren(history: History): string[] {
  return (history.events ?? []).flatMap((e) => {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    return id ? [id] : [];
  });
}
