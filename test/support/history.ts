import type { Client, WorkflowHandle } from '@temporalio/client';

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/**
 * The histories of every execution of a workflow id's latest chain, oldest
 * first: walks continue-as-new backwards from the latest execution.
 */
export async function chainHistories(client: Client, workflowId: string): Promise<History[]> {
  const histories: History[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.unshift(history);
    runId = undefined;
    for (const event of history.events ?? []) {
      const continued: string | null | undefined = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (continued) runId = continued;
    }
  }
  return histories;
}

/** The attempt number of each started activity of this type (history keeps only the last attempt). */
export function activityAttempts(histories: readonly History[], activityType: string): number[] {
  const attempts: number[] = [];
  for (const history of histories) {
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '');
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === activityType) attempts.push(started.attempt ?? 0);
    }
  }
  return attempts;
}

/**
 * A history as searchable text: its JSON (failure messages, details), plus the
 * bytes of every payload decoded — payloads are where record data would travel,
 * and JSON.stringify shows them only as base64.
 */
export function historyText(history: History): string {
  const payloads: string[] = [];
  const visit = (value: unknown): void => {
    if (value instanceof Uint8Array) payloads.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(history);
  return [JSON.stringify(history), ...payloads].join('\n');
}
