import { createHash } from 'node:crypto';
import type { ScheduleOptions } from '@temporalio/client';
import type { StreamRegistry } from '../config/load-config.js';
import type { ResolvedSchedule } from '../config/schedule.js';
import type { ScheduledRunInput } from '../workflows/pipeline-contracts.js';
import { exchangeRunName, pipelineWorkflowId, scheduleIdOf, streamWorkflowId } from '../workflows/ids.js';

/** The memo key marking a Temporal Schedule as created by `ferry schedule apply` (with the id prefix `ferry:`). */
export const FERRY_MEMO_KEY = 'ferry';
export const SCHEDULE_ID_PREFIX = scheduleIdOf('');

/** Schedule memo (set at creation; Temporal cannot change it later). */
export interface FerryScheduleMemo {
  managedBy: 'ferry';
  kind: ScheduledRunInput['kind'];
  name: string;
}

/**
 * Memo of the workflows the schedule starts; it is part of the action, so an
 * update rewrites it: `configHash` is how `apply` knows a schedule is unchanged.
 */
export interface FerryActionMemo {
  kind: ScheduledRunInput['kind'];
  name: string;
  /** what the config asks for, in words */
  spec: string;
  configHash: string;
}

/** One schedule the config asks for. */
export interface DesiredSchedule {
  kind: ScheduledRunInput['kind'];
  name: string;
  scheduleId: string;
  schedule: ResolvedSchedule;
  /** the id the scheduled run locks: the stream's or the pipeline's workflow id */
  lockWorkflowId: string;
  configHash: string;
  options: ScheduleOptions;
  /** the note shown in the Web UI */
  note: string;
}

/** Stable JSON: keys sorted, so the hash depends on content only. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The workflow id a scheduled start takes: the lock of the stream, pipeline or exchange node. */
function lockOf(input: ScheduledRunInput): string {
  if (input.kind === 'stream') return streamWorkflowId(input.name);
  if (input.kind === 'pipeline') return pipelineWorkflowId(input.name);
  return exchangeRunName(input.node ?? input.name);
}

export function desiredSchedule(kind: ScheduledRunInput['kind'], name: string, schedule: ResolvedSchedule, taskQueue: string, node?: string): DesiredSchedule {
  const scheduleId = scheduleIdOf(name);
  const input: ScheduledRunInput = node === undefined ? { kind, name } : { kind, name, node };
  const lockWorkflowId = lockOf(input);
  const spec: ScheduleOptions['spec'] =
    schedule.everyMs !== null ? { intervals: [{ every: schedule.everyMs }], timezone: schedule.timezone } : { cronExpressions: schedule.cron, timezone: schedule.timezone };
  const policies = { overlap: 'SKIP' as const, catchupWindow: schedule.catchupWindowMs, pauseOnFailure: schedule.pauseOnFailure };
  const args: [ScheduledRunInput] = [input];
  // the line the Web UI shows for each scheduled workflow
  const staticSummary = `ferry: scheduled ${kind} "${name}" (takes the lock "${lockWorkflowId}")`;
  const configHash = createHash('sha256')
    .update(stableJson({ spec, policies, workflowType: 'scheduledRun', workflowId: scheduleId, taskQueue, args, staticSummary }))
    .digest('hex')
    .slice(0, 16);
  const actionMemo: FerryActionMemo = { kind, name, spec: schedule.description, configHash };
  const memo: FerryScheduleMemo = { managedBy: 'ferry', kind, name };
  const note = `ferry ${kind} "${name}": ${schedule.description}; runs take the lock "${lockWorkflowId}" (a start while it runs is skipped). Managed by ferry schedule apply.`;
  return {
    kind,
    name,
    scheduleId,
    schedule,
    lockWorkflowId,
    configHash,
    note,
    options: {
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRun',
        // Temporal appends the scheduled time to this id; the lock is the child's id, not this one.
        workflowId: scheduleId,
        taskQueue,
        args,
        memo: { [FERRY_MEMO_KEY]: actionMemo },
        staticSummary,
      },
      policies,
      memo: { [FERRY_MEMO_KEY]: memo },
      state: { note },
    },
  };
}

/** Every schedule the config declares, streams first, in config order. */
export function desiredSchedules(registry: StreamRegistry, taskQueue: string): DesiredSchedule[] {
  const found: DesiredSchedule[] = [];
  for (const s of registry.all()) if (s.schedule) found.push(desiredSchedule('stream', s.name, s.schedule, taskQueue));
  for (const p of registry.pipelines()) if (p.schedule) found.push(desiredSchedule('pipeline', p.name, p.schedule, taskQueue));
  for (const e of registry.exchangeSchedules) found.push(desiredSchedule('exchange', exchangeRunName(e.node), e.schedule, taskQueue, e.node));
  return found;
}

export function ferryScheduleMemo(memo: Record<string, unknown> | undefined): FerryScheduleMemo | undefined {
  const m = memo?.[FERRY_MEMO_KEY] as FerryScheduleMemo | undefined;
  return m?.managedBy === 'ferry' && typeof m.name === 'string' ? m : undefined;
}

export function ferryActionMemo(memo: Record<string, unknown> | undefined): FerryActionMemo | undefined {
  const m = memo?.[FERRY_MEMO_KEY] as FerryActionMemo | undefined;
  return m && typeof m.configHash === 'string' ? m : undefined;
}
