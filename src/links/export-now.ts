import type { Client } from '@temporalio/client';
import { TASK_QUEUE_DEFAULT } from '../workflows/definitions.js';
import { runSoonWorkflowId } from '../workflows/ids.js';
import { runRequestedSignal, type runSoon } from '../workflows/run-soon.js';

export interface ExportNowOptions {
  /** the task queue of the ferry workers (default 'ferry') */
  taskQueue?: string;
}

/**
 * "Export now", for the site's code (e.g. right after a registration): one
 * call that runs the stream soon. Signal-with-start on the stream's
 * `run-soon` workflow: when none is waiting it starts one, which runs the
 * stream at once; when one is running or waiting for a run in progress, the
 * request joins it and one more run follows, so a burst of calls makes one
 * or two runs, never one each. Returns at once (it does not wait for the run).
 */
export async function exportNow(client: Client, stream: string, options: ExportNowOptions = {}): Promise<{ workflowId: string; runId: string }> {
  const workflowId = runSoonWorkflowId(stream);
  const handle = await client.workflow.signalWithStart<typeof runSoon, []>('runSoon', {
    workflowId,
    taskQueue: options.taskQueue ?? TASK_QUEUE_DEFAULT,
    args: [{ stream }],
    signal: runRequestedSignal,
    signalArgs: [],
  });
  return { workflowId, runId: handle.signaledRunId };
}
