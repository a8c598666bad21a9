import type { ScheduledRunInput } from '../workflows/pipeline-contracts.js';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { StreamRegistry } from '../config/load-config.js';
import { desiredSchedules, ferryActionMemo, ferryScheduleMemo, SCHEDULE_ID_PREFIX, type DesiredSchedule } from './desired.js';

/**
 * What `apply` did to one schedule:
 * - created / updated / unchanged: a schedule the config declares;
 * - deleted: a ferry schedule the config no longer has, removed by --prune;
 * - orphan: such a schedule, left in place (no --prune);
 * - conflict: a schedule with the id exists but was not created by ferry: left alone.
 */
export type ApplyAction = 'created' | 'updated' | 'unchanged' | 'deleted' | 'orphan' | 'conflict';

export interface ApplyResult {
  name: string;
  kind: ScheduledRunInput['kind'] | 'unknown';
  scheduleId: string;
  action: ApplyAction;
  /** the schedule in words */
  spec?: string | undefined;
  detail?: string | undefined;
}

export interface ApplyOptions {
  /** delete ferry schedules (of this task queue) that the config no longer declares */
  prune?: boolean;
}

/** The schedule, or undefined when Temporal has none with this id. */
export async function describeOrUndefined(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * A schedule created by ferry for this deployment: the `ferry:` id prefix, the
 * ferry memo, and the task queue of this worker fleet (so two deployments on
 * one namespace never prune each other's schedules).
 */
export function isOwnSchedule(description: ScheduleDescription, taskQueue: string): boolean {
  return description.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && ferryScheduleMemo(description.memo) !== undefined && description.action.taskQueue === taskQueue;
}

async function applyOne(client: Client, desired: DesiredSchedule): Promise<ApplyResult> {
  const base = { name: desired.name, kind: desired.kind, scheduleId: desired.scheduleId, spec: desired.schedule.description };
  const current = await describeOrUndefined(client, desired.scheduleId);
  if (!current) {
    try {
      await client.schedule.create(desired.options);
      return { ...base, action: 'created' };
    } catch (err) {
      // created meanwhile by another apply: compare with that one
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      return applyOne(client, desired);
    }
  }
  if (!ferryScheduleMemo(current.memo)) {
    return { ...base, action: 'conflict', detail: `a schedule "${desired.scheduleId}" exists that ferry did not create; rename the ${desired.kind} or delete that schedule` };
  }
  if (ferryActionMemo(current.action.memo)?.configHash === desired.configHash) return { ...base, action: 'unchanged' };
  const { spec, action, policies } = desired.options;
  await client.schedule.getHandle(desired.scheduleId).update((previous) => ({
    spec,
    action,
    policies,
    // A schedule paused by hand stays paused, with its note.
    state: {
      paused: previous.state.paused,
      note: previous.state.paused ? previous.state.note : desired.note,
      ...(previous.state.remainingActions !== undefined ? { remainingActions: previous.state.remainingActions } : {}),
    },
  }));
  return { ...base, action: 'updated', ...(current.state.paused ? { detail: 'still paused (ferry schedule unpause to resume)' } : {}) };
}

/** The ferry schedules of this task queue that Temporal has, by id. */
export async function ownSchedules(client: Client, taskQueue: string): Promise<Map<string, ScheduleDescription>> {
  const found = new Map<string, ScheduleDescription>();
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) continue;
    // The listing is eventually consistent: describe says what the schedule is now.
    const description = await describeOrUndefined(client, summary.scheduleId);
    if (description && isOwnSchedule(description, taskQueue)) found.set(description.scheduleId, description);
  }
  return found;
}

/**
 * Makes Temporal's schedules match the config, idempotently: creates what is
 * missing, updates what changed (a paused schedule stays paused), leaves the
 * rest alone ("unchanged"). Ferry schedules the config no longer declares are
 * reported, and deleted with `prune`.
 */
export async function applySchedules(client: Client, registry: StreamRegistry, taskQueue: string, options: ApplyOptions = {}): Promise<ApplyResult[]> {
  const desired = desiredSchedules(registry, taskQueue);
  const results: ApplyResult[] = [];
  for (const d of desired) results.push(await applyOne(client, d));

  const wanted = new Set(desired.map((d) => d.scheduleId));
  for (const [scheduleId, description] of await ownSchedules(client, taskQueue)) {
    if (wanted.has(scheduleId)) continue;
    const memo = ferryScheduleMemo(description.memo);
    const base = { name: memo?.name ?? scheduleId.slice(SCHEDULE_ID_PREFIX.length), kind: memo?.kind ?? ('unknown' as const), scheduleId, spec: ferryActionMemo(description.action.memo)?.spec };
    if (options.prune) {
      await client.schedule.getHandle(scheduleId).delete();
      results.push({ ...base, action: 'deleted' });
    } else {
      results.push({ ...base, action: 'orphan', detail: 'not in the config any more; ferry schedule apply --prune deletes it' });
    }
  }
  return results;
}
