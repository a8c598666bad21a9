/**
 * What `ferry status` knows of a stream: from the state store its checkpoint,
 * lag, dead letters and recent runs; from Temporal the live progress of a
 * running run and the next time its schedule fires.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { ResolvedStream } from '../config/define-stream.js';
import type { Cursor } from '../core/types.js';
import { getCheckpoint, type Checkpoint } from '../state/checkpoints.js';
import { countDeadLetters } from '../state/dead-letters.js';
import type { StateDb } from '../state/db.js';
import { recentRuns } from '../state/runs.js';
import type { RunRow } from '../state/schema.js';
import type { Progress } from '../workflows/contracts.js';
import { progressQuery } from '../workflows/definitions.js';
import { scheduleIdOf } from '../workflows/ids.js';

export interface Lag {
  seconds: number;
  /** the moment the lag is counted from */
  since: Date;
  /** 'cursor': the checkpoint's timestamp value (timestamp cursors); 'written': when the checkpoint was last written */
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
  /** null: no schedule (or Temporal not reachable) */
  schedule: ScheduleState | null;
  nextRunAt: Date | null;
  /** newest first */
  runs: RunRow[];
}

/**
 * A timestamp as PostgreSQL (or ISO 8601) writes it — '2026-01-01 10:00:00.123456+00' —
 * as a Date (milliseconds). A time without a zone is taken as UTC.
 */
export function parseTimestamp(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const [, date, time, fraction, zone] = m;
  const ms = fraction ? `.${fraction.slice(1, 4).padEnd(3, '0')}` : '';
  let tz = 'Z';
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    tz = `${digits.slice(0, 3)}:${digits.slice(3, 5) || '00'}`;
  }
  const at = new Date(`${date}T${time}${time!.length === 5 ? ':00' : ''}${ms}${tz}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The timestamp in a timestamp cursor: `{ value, key }` (the Postgres source), or the value alone. */
export function cursorTime(stream: ResolvedStream, cursor: Cursor): Date | undefined {
  if (stream.shape.cursor.strategy !== 'timestamp') return undefined;
  const value = typeof cursor === 'object' && cursor !== null && !Array.isArray(cursor) ? cursor.value : cursor;
  return typeof value === 'string' ? parseTimestamp(value) : undefined;
}

export function lagOf(stream: ResolvedStream, checkpoint: Checkpoint | undefined, now = Date.now()): Lag | null {
  if (!checkpoint) return null;
  const fromCursor = cursorTime(stream, checkpoint.cursor);
  const since = fromCursor ?? checkpoint.updatedAt;
  return { seconds: Math.max(0, (now - since.getTime()) / 1000), since, basis: fromCursor ? 'cursor' : 'written' };
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
  const [checkpoint, deadLetters, rows] = await Promise.all([getCheckpoint(db, stream.name), countDeadLetters(db, stream.name), recentRuns(db, stream.name, runs)]);
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
    schedule,
    nextRunAt: schedule?.nextRunAt ?? null,
    runs: rows,
  };
}
