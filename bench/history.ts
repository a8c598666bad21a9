// Temporal history of one stream run: every execution of its continue-as-new
// chain, its event count, and where the time went (per activity type, workflow
// tasks, and the rest), from the events' own timestamps.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;
type Ts = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;


function ms(ts: Ts): number {
  if (!ts) return 0;
  const s = ts.seconds;
  const seconds = typeof s === 'number' ? s : s ? s.toNumber() : 0;
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

export interface ActivityTiming {
  count: number;
  /** scheduled -> started (queue + poll), ms */
  queueMs: number;
  /** started -> completed (the activity itself), ms */
  runMs: number;
  /** per-call run ms, for medians */
  runs: number[];
}

export interface RunHistory {
  executions: number;
  events: number;
  /** first event of the first execution -> last event of the last, ms */
  spanMs: number;
  activities: Record<string, ActivityTiming>;
  /** workflow tasks: scheduled -> completed, summed, ms */
  workflowTaskMs: number;
  workflowTasks: number;
  /** activity tasks started per worker identity (pid@host): how the work spread over worker processes */
  activitiesByWorker: Record<string, number>;
  /** the most events any one execution of the chain had (continue-as-new keeps it bounded) */
  maxEventsPerExecution: number;
}

/** Follows the chain from its first execution and sums over all of them. */
export async function runHistory(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory> {
  const out: RunHistory = { executions: 0, events: 0, spanMs: 0, activities: {}, workflowTaskMs: 0, workflowTasks: 0, activitiesByWorker: {}, maxEventsPerExecution: 0 };
  let runId: string | undefined = firstRunId;
  let first = Number.NaN;
  let last = 0;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: Event[] = history.events ?? [];
    out.executions += 1;
    out.events += events.length;
    out.maxEventsPerExecution = Math.max(out.maxEventsPerExecution, events.length);
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    const wftScheduled = new Map<string, number>();
    let next: string | undefined;
    for (const e of events) {
      const at = ms(e.eventTime as Ts);
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
        }
      } else if (e.workflowTaskScheduledEventAttributes) {
        wftScheduled.set(id, at);
      } else if (e.workflowTaskCompletedEventAttributes) {
        const s = wftScheduled.get(String(e.workflowTaskCompletedEventAttributes.scheduledEventId));
        if (s !== undefined) {
          out.workflowTaskMs += at - s;
          out.workflowTasks += 1;
        }
      } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? undefined;
      }
    }
    runId = next;
  }
  out.spanMs = last - first;
  return out;
}
