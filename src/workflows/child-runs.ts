import { WorkflowExecutionAlreadyStartedError, type WithWorkflowArgs } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  isCancellation,
  ParentClosePolicy,
  startChild,
  type ChildWorkflowHandle,
  type ChildWorkflowOptions,
  type Workflow,
} from '@temporalio/workflow';

/**
 * Starting another workflow under its fixed id (the stream's or pipeline's
 * lock) as a child. When that id is already running — a run started by the
 * CLI, a schedule, a replay or a pipeline — the start is refused and nothing
 * is started: the caller gets `{ busy }` instead of a handle.
 */
export async function startLocked<W extends Workflow>(
  workflowType: string,
  workflowId: string,
  args: Parameters<W>,
): Promise<{ handle: ChildWorkflowHandle<W> } | { busy: string }> {
  try {
    const options: ChildWorkflowOptions & { args: unknown[] } = {
      workflowId,
      args,
      // Closing the parent (cancel, terminate) asks the run to stop at a batch boundary, leaving its run row.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    };
    // `args` is Parameters<W>: the cast only restates that for the generic W.
    const handle = await startChild<W>(workflowType, options as WithWorkflowArgs<W, ChildWorkflowOptions>);
    return { handle };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { busy: err.workflowId || workflowId };
    if (isCancellation(err)) throw err;
    // Anything else thrown as a plain error would retry the workflow task forever.
    throw ApplicationFailure.nonRetryable(`could not start ${workflowType} "${workflowId}": ${failureText(err)}`, 'ChildStartFailed');
  }
}

/** A child's failure as one line: "Child Workflow execution failed" says nothing, its cause does. */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let e: Error = err;
  while (e.cause instanceof Error && /execution failed|Activity task failed/i.test(e.message)) e = e.cause;
  return e.message;
}
