import type { ScheduledRunInput } from '../workflows/pipeline-contracts.js';
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { StreamRegistry } from '../config/load-config.js';
import { formatMs } from '../core/duration.js';
import { scheduleIdOf } from '../workflows/ids.js';
import { describeOrUndefined, ownSchedules } from './apply.js';
import { desiredSchedules, ferryActionMemo, ferryScheduleMemo, SCHEDULE_ID_PREFIX, type DesiredSchedule } from './desired.js';

/**
 * A schedule compared with the config:
 * - applied: as the config says; changed: the config says otherwise (apply updates it);
 * - missing: in the config, not in Temporal (apply creates it);
 * - orphan: a ferry schedule the config no longer has (apply --prune deletes it);
 * - foreign: the id is taken by a schedule ferry did not create.
 */
export type ScheduleState = 'applied' | 'changed' | 'missing' | 'orphan' | 'foreign';

export interface ScheduleView {
  name: string;
  kind: ScheduledRunInput['kind'] | 'unknown';
  scheduleId: string;
  state: ScheduleState;
  /** the schedule in words (from the config, or as last applied) */
  spec: string | undefined;
  timezone: string | undefined;
  catchupWindow: string | undefined;
  overlap: string | undefined;
  paused: boolean | undefined;
  note: string | undefined;
  taskQueue: string | undefined;
  nextRuns: string[];
  /** the latest scheduled workflows (each takes the stream's or pipeline's lock, or ends as skipped) */
  recentRuns: { scheduledAt: string; takenAt: string; workflowId: string; workflowRunId: string }[];
  running: { workflowId: string; workflowRunId: string }[];
  actionsTaken: number | undefined;
  skippedOverlap: number | undefined;
  missedCatchupWindow: number | undefined;
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

function view(name: string, kind: ScheduleView['kind'], scheduleId: string, state: ScheduleState, d: ScheduleDescription | undefined, desired: DesiredSchedule | undefined): ScheduleView {
  return {
    name,
    kind,
    scheduleId,
    state,
    spec: desired?.schedule.description ?? ferryActionMemo(d?.action.memo)?.spec,
    timezone: d?.spec.timezone ?? desired?.schedule.timezone,
    catchupWindow: d ? formatMs(d.policies.catchupWindow) : desired ? formatMs(desired.schedule.catchupWindowMs) : undefined,
    overlap: d?.policies.overlap ?? (desired ? 'SKIP' : undefined),
    paused: d?.state.paused,
    note: d?.state.note,
    taskQueue: d?.action.taskQueue ?? (desired?.options.action.taskQueue as string | undefined),
    nextRuns: (d?.info.nextActionTimes ?? []).slice(0, 5).map((t) => t.toISOString()),
    recentRuns: (d?.info.recentActions ?? []).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      workflowRunId: a.action.workflow.firstExecutionRunId,
    })),
    running: (d?.info.runningActions ?? []).map((a) => ({ workflowId: a.workflow.workflowId, workflowRunId: a.workflow.firstExecutionRunId })),
    actionsTaken: d?.info.numActionsTaken,
    skippedOverlap: d?.info.numActionsSkippedOverlap,
    missedCatchupWindow: d?.info.numActionsMissedCatchupWindow,
    createdAt: d?.info.createdAt.toISOString(),
    updatedAt: d?.info.lastUpdatedAt?.toISOString(),
  };
}

function compare(d: ScheduleDescription | undefined, desired: DesiredSchedule): ScheduleState {
  if (!d) return 'missing';
  if (!ferryScheduleMemo(d.memo)) return 'foreign';
  return ferryActionMemo(d.action.memo)?.configHash === desired.configHash ? 'applied' : 'changed';
}

/** One schedule, by stream or pipeline name; undefined when neither the config nor Temporal has it. */
export async function inspectSchedule(client: Client, registry: StreamRegistry, taskQueue: string, name: string): Promise<ScheduleView | undefined> {
  const scheduleId = scheduleIdOf(name);
  const desired = desiredSchedules(registry, taskQueue).find((s) => s.scheduleId === scheduleId);
  const d = await describeOrUndefined(client, scheduleId);
  if (desired) return view(name, desired.kind, scheduleId, compare(d, desired), d, desired);
  if (!d) return undefined;
  const memo = ferryScheduleMemo(d.memo);
  return view(memo?.name ?? name, memo?.kind ?? 'unknown', scheduleId, memo ? 'orphan' : 'foreign', d, undefined);
}

/** The config's schedules and this deployment's ferry schedules in Temporal, compared. */
export async function inspectSchedules(client: Client, registry: StreamRegistry, taskQueue: string): Promise<ScheduleView[]> {
  const desired = desiredSchedules(registry, taskQueue);
  const views: ScheduleView[] = [];
  for (const s of desired) {
    const d = await describeOrUndefined(client, s.scheduleId);
    views.push(view(s.name, s.kind, s.scheduleId, compare(d, s), d, s));
  }
  const wanted = new Set(desired.map((s) => s.scheduleId));
  for (const [scheduleId, d] of await ownSchedules(client, taskQueue)) {
    if (wanted.has(scheduleId)) continue;
    const memo = ferryScheduleMemo(d.memo);
    views.push(view(memo?.name ?? scheduleId.slice(SCHEDULE_ID_PREFIX.length), memo?.kind ?? 'unknown', scheduleId, 'orphan', d, undefined));
  }
  return views;
}
