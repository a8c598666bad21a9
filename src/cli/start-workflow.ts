import { CancelledFailure, TerminatedFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandleWithFirstExecutionRunId, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

/**
 * The one way the CLI starts a run under a lock id (a stream, a pipeline, an
 * exchange node): started, or refused because that id is running, naming the
 * running execution. Callers say what the refusal means to the person.
 */
export async function startOrRefuse<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId<W> } | { refused: { runningRunId: string | undefined } }> {
  try {
    return { handle: await client.workflow.start<W>(workflowType, options) };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(options.workflowId).describe().catch(() => undefined);
    return { refused: { runningRunId: running?.runId } };
  }
}

/**
 * How a run that threw ended: 'cancelled' when it was cancelled, 'failed'
 * otherwise — a terminated run too: it stopped without closing its own
 * records, so it counts as failed, with the reason saying "terminated".
 */
export function failedRunStatus(err: WorkflowFailedError): 'cancelled' | 'failed' {
  return err.cause instanceof CancelledFailure ? 'cancelled' : 'failed';
}

/** The reason a run that threw gives: the cause's message ("stream x failed: <why>"), marked when it was terminated. */
export function failedRunReason(err: WorkflowFailedError): string {
  const text = err.cause?.message ?? err.message;
  return err.cause instanceof TerminatedFailure ? `terminated: ${text}` : text;
}
