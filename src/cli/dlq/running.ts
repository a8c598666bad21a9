import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { streamWorkflowId } from '../../workflows/ids.js';

export interface RunningWorkflow {
  /** 'syncStream' or 'replayDeadLetters' */
  type: string;
  runId: string;
}

/** The workflow holding the stream's lock (its workflow id) right now, if any. */
export async function runningOf(client: Client, stream: string): Promise<RunningWorkflow | undefined> {
  try {
    const d = await client.workflow.getHandle(streamWorkflowId(stream)).describe();
    return d.status.name === 'RUNNING' ? { type: d.type, runId: d.runId } : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** "a sync run (workflow id "s", run …)" */
export function describeRunning(stream: string, running: RunningWorkflow | undefined): string {
  const what = running?.type === 'replayDeadLetters' ? 'a dead-letter replay' : running?.type === 'syncStream' || !running ? 'a sync run' : `a ${running.type} workflow`;
  return `${what} of it is in progress (workflow id "${streamWorkflowId(stream)}", run ${running?.runId ?? 'unknown'})`;
}
