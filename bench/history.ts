// Temporal history of one stream run: every execution of its continue-as-new
// chain and, recursively, of its child workflows (a partitioned first load's
// `loadPartition` children, each with a continue-as-new chain of its own); the
// event counts, and where the time went (per activity type, workflow tasks, and
// the rest), from the events' own timestamps.
//
// Partitions run at once, so the activity time summed over all executions can
// exceed the wall time. Besides the sums this keeps the union of the busy
// intervals (per activity type and over everything): the time during which at
// least one such step was running, which never exceeds the run's span.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Ts = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

function ms(ts: Ts): number {
  if (!ts) return 0;
  const s = ts.seconds;
  const seconds = typeof s === 'number' ? s : s ? s.toNumber() : 0;
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** [start, end] in ms since the epoch */
export type Interval = readonly [number, number];

/** Total length of the union of the intervals (overlaps counted once). */
export function unionMs(intervals: readonly Interval[]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let start = Number.NaN;
  let end = Number.NaN;
  for (const [a, b] of sorted) {
    if (Number.isNaN(end) || a > end) {
      if (!Number.isNaN(end)) total += end - start;
      start = a;
      end = b;
    } else end = Math.max(end, b);
  }
  if (!Number.isNaN(end)) total += end - start;
  return total;
}

export interface ActivityTiming {
  count: number;
  /** scheduled -> started (queue + poll), summed over calls, ms */
  queueMs: number;
  /** started -> completed (the activity itself), summed over calls, ms */
  runMs: number;
  /** union of the calls' started -> completed intervals, ms: ≤ the span even when partitions overlap */
  busyMs?: number;
  /** per-call run ms, for medians */
  runs: number[];
}

/** One workflow id's continue-as-new chain within the run (the stream's own, or a child's). */
export interface WorkflowChain {
  workflowId: string;
  /** the workflow type of its first execution, e.g. syncStream, loadPartition */
  type: string;
  executions: number;
  events: number;
  /** how many levels below the stream's workflow (0: the stream's own) */
  depth: number;
}

export interface RunHistory {
  /** executions of every chain, the stream's own and its child workflows' */
  executions: number;
  /** events of every execution */
  events: number;
  /** first event of the first execution -> last event of any execution, ms */
  spanMs: number;
  activities: Record<string, ActivityTiming>;
  /** workflow tasks: scheduled -> completed, summed, ms */
  workflowTaskMs: number;
  workflowTasks: number;
  /** activity tasks started per worker identity (pid@host): how the work spread over worker processes */
  activitiesByWorker: Record<string, number>;
  /** the most events any one execution had (continue-as-new keeps it bounded) */
  maxEventsPerExecution: number;
  /** the workflow id of that execution */
  maxEventsWorkflowId?: string;
  /** child workflows started (recursively: children of children count too) */
  childWorkflows?: number;
  /** each chain: the stream's own first, then its children in the order they started */
  chains?: WorkflowChain[];
  /** union of every activity's started -> completed intervals, ms */
  activityBusyMs?: number;
  /** union of every activity's scheduled -> started intervals, ms */
  queueBusyMs?: number;
  /** union of every workflow task's scheduled -> completed intervals, ms */
  workflowTaskBusyMs?: number;
  /** union of all the intervals above: time during which some step ran or waited for a worker, ms */
  busyMs?: number;
}

/** The events of one execution (one run id of one workflow id). */
export type FetchEvents = (workflowId: string, runId: string) => Promise<HistoryEvent[]>;

/**
 * Walks the run from its first execution: each execution's continue-as-new
 * successor, and each child workflow it started (with the child's own chain
 * and children), summing over all of them.
 */
export async function collectHistory(fetchEvents: FetchEvents, workflowId: string, firstRunId: string): Promise<RunHistory> {
  const out: RunHistory = {
    executions: 0,
    events: 0,
    spanMs: 0,
    activities: {},
    workflowTaskMs: 0,
    workflowTasks: 0,
    activitiesByWorker: {},
    maxEventsPerExecution: 0,
    childWorkflows: 0,
    chains: [],
  };
  const activityIntervals = new Map<string, Interval[]>();
  const queueIntervals: Interval[] = [];
  const wftIntervals: Interval[] = [];
  const chains = new Map<string, WorkflowChain>();
  const seen = new Set<string>();
  const childIds = new Set<string>();
  // breadth first: the stream's chain, then its children, then theirs
  const pending: { workflowId: string; runId: string; depth: number }[] = [{ workflowId, runId: firstRunId, depth: 0 }];
  let first = Number.NaN;
  let last = 0;
  while (pending.length) {
    const { workflowId: wid, runId, depth } = pending.shift() as (typeof pending)[number];
    const key = `${wid}\u0000${runId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const events = await fetchEvents(wid, runId);
    let chain = chains.get(wid);
    if (!chain) {
      const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
      chain = { workflowId: wid, type, executions: 0, events: 0, depth };
      chains.set(wid, chain);
      out.chains?.push(chain);
    }
    chain.executions += 1;
    chain.events += events.length;
    out.executions += 1;
    out.events += events.length;
    if (events.length > out.maxEventsPerExecution) {
      out.maxEventsPerExecution = events.length;
      out.maxEventsWorkflowId = wid;
    }
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    const wftScheduled = new Map<string, number>();
    for (const e of events) {
      const at = ms(e.eventTime as Ts);
      // the first event of the stream's own first execution starts the span
      if (Number.isNaN(first)) first = at;
      last = Math.max(last, at);
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes) {
        scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
      } else if (e.activityTaskStartedEventAttributes) {
        started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
        const who = e.activityTaskStartedEventAttributes.identity ?? '?';
        out.activitiesByWorker[who] = (out.activitiesByWorker[who] ?? 0) + 1;
      } else if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
        const sid = String(attrs?.scheduledEventId);
        const s = scheduled.get(sid);
        const st = started.get(sid) ?? s?.at ?? at;
        if (s) {
          const t = (out.activities[s.type] ??= { count: 0, queueMs: 0, runMs: 0, runs: [] });
          t.count += 1;
          t.queueMs += st - s.at;
          t.runMs += at - st;
          t.runs.push(at - st);
          const list = activityIntervals.get(s.type) ?? [];
          list.push([st, at]);
          activityIntervals.set(s.type, list);
          queueIntervals.push([s.at, st]);
        }
      } else if (e.workflowTaskScheduledEventAttributes) {
        wftScheduled.set(id, at);
      } else if (e.workflowTaskCompletedEventAttributes) {
        const s = wftScheduled.get(String(e.workflowTaskCompletedEventAttributes.scheduledEventId));
        if (s !== undefined) {
          out.workflowTaskMs += at - s;
          out.workflowTasks += 1;
          wftIntervals.push([s, at]);
        }
      } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        const next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
        if (next) pending.push({ workflowId: wid, runId: next, depth });
      } else if (e.childWorkflowExecutionStartedEventAttributes) {
        const child = e.childWorkflowExecutionStartedEventAttributes.workflowExecution;
        if (child?.workflowId && child.runId) {
          childIds.add(child.workflowId);
          pending.push({ workflowId: child.workflowId, runId: child.runId, depth: depth + 1 });
        }
      }
    }
  }
  out.spanMs = Number.isNaN(first) ? 0 : last - first;
  out.childWorkflows = childIds.size;
  for (const [type, intervals] of activityIntervals) {
    const t = out.activities[type];
    if (t) t.busyMs = unionMs(intervals);
  }
  const allActivity = [...activityIntervals.values()].flat();
  out.activityBusyMs = unionMs(allActivity);
  out.queueBusyMs = unionMs(queueIntervals);
  out.workflowTaskBusyMs = unionMs(wftIntervals);
  out.busyMs = unionMs([...allActivity, ...queueIntervals, ...wftIntervals]);
  return out;
}

/** The run's history as the Temporal server has it. */
export async function runHistory(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory> {
  return collectHistory(async (wid, runId) => (await client.workflow.getHandle(wid, runId).fetchHistory()).events ?? [], workflowId, firstRunId);
}
