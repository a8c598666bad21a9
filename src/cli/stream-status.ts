/**
 * What `ferry status` knows of a stream: from the state store its checkpoint,
 * lag, dead letters and recent runs; from Temporal the live progress of a
 * running run and the next time its schedule fires.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { ResolvedStream } from '../config/define-stream.js';
import { getCheckpoint, type Checkpoint } from '../state/checkpoints.js';
import { countDeadLetters } from '../state/dead-letters.js';
import type { StateDb } from '../state/db.js';
import { readAwaitingApprovals } from '../state/delete-approvals.js';
import { recentRuns } from '../state/runs.js';
import type { RunRow } from '../state/schema.js';
import type { Progress } from '../workflows/contracts.js';
import { progressQuery } from '../workflows/definitions.js';
import type { PendingDeleteApproval } from '../workflows/delete-approval-contracts.js';
import { scheduleIdOf } from '../workflows/ids.js';

export interface Lag {
  seconds: number;
  /** the moment the lag is counted from */
  since: Date;
  /** 'cursor': the time the checkpoint tells (Source.lag, e.g. a timestamp cursor); 'written': when the checkpoint was last written */
  basis: 'cursor' | 'written';
}

export interface ScheduleState {
  id: string;
  paused: boolean;
  nextRunAt: Date | null;
}

export interface StreamStatus {
  stream: string;
  pair: { name: string; direction: 'import' | 'export' } | null;
  checkpoint: Checkpoint | null;
  lag: Lag | null;
  deadLetters: number;
  /** the newest run row */
  lastRun: RunRow | null;
  /** live progress of the running run, when Temporal answers */
  progress: Progress | null;
  /** the running run waits for `ferry approve` / `ferry reject` (state store) */
  awaitingApproval: PendingDeleteApproval | null;
  /** null: no schedule (or Temporal not reachable) */
  schedule: ScheduleState | null;
  nextRunAt: Date | null;
  /** newest first */
  runs: RunRow[];
}

/** Lag from the time the checkpoint tells, as its source reads it, else from when it was written. */
export function lagOf(stream: ResolvedStream, checkpoint: Checkpoint | undefined, now = Date.now()): Lag | null {
  if (!checkpoint) return null;
  const fromCursor = stream.source.lag(checkpoint.cursor, new Date(now));
  if (fromCursor !== null) return { seconds: fromCursor, since: new Date(now - fromCursor * 1000), basis: 'cursor' };
  return { seconds: Math.max(0, (now - checkpoint.updatedAt.getTime()) / 1000), since: checkpoint.updatedAt, basis: 'written' };
}

/** A promise's value, or undefined after `ms` (a query to a run no worker serves would wait long). */
function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function scheduleOf(client: Client, name: string): Promise<ScheduleState | null> {
  const id = scheduleIdOf(name);
  try {
    const d = await client.schedule.getHandle(id).describe();
    return { id, paused: d.state.paused, nextRunAt: d.state.paused ? null : (d.info.nextActionTimes[0] ?? null) };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

export async function streamStatus(stream: ResolvedStream, db: StateDb, client: Client | undefined, runs: number, now = Date.now()): Promise<StreamStatus> {
  const [checkpoint, deadLetters, rows, awaiting] = await Promise.all([
    getCheckpoint(db, stream.name),
    countDeadLetters(db, stream.name),
    recentRuns(db, stream.name, runs),
    readAwaitingApprovals(db, [stream.name]),
  ]);
  const lastRun = rows[0] ?? null;
  const [progress, schedule] = client
    ? await Promise.all([
        lastRun?.status === 'running'
          ? within(2000, client.workflow.getHandle(lastRun.workflow_id).query(progressQuery).catch(() => undefined))
          : Promise.resolve(undefined),
        scheduleOf(client, stream.name),
      ])
    : [undefined, null];
  return {
    stream: stream.name,
    pair: stream.pair ?? null,
    checkpoint: checkpoint ?? null,
    lag: lagOf(stream, checkpoint, now),
    deadLetters,
    lastRun,
    progress: progress ?? null,
    awaitingApproval: awaiting[0] ?? null,
    schedule,
    nextRunAt: schedule?.nextRunAt ?? null,
    runs: rows,
  };
}
