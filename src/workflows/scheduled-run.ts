import { ApplicationFailure, isCancellation, log, setCurrentDetails, type ChildWorkflowHandle, type Workflow } from '@temporalio/workflow';
import { formatCounts } from '../core/types.js';
import { failureText, startLocked } from './child-runs.js';
import type { exchangeNode } from './exchange.js';
import { exchangeRunName, pipelineWorkflowId, streamWorkflowId } from './ids.js';
import type { ScheduledRunInput, ScheduledRunResult } from './pipeline-contracts.js';
import type { runPipeline } from './run-pipeline.js';
import type { syncStream } from './sync-stream.js';

function skipped(input: ScheduledRunInput, runningWorkflowId: string): ScheduledRunResult {
  const reason = `skipped: ${input.kind} "${input.name}" already has a run in progress (workflow "${runningWorkflowId}"); this scheduled run started nothing`;
  log.info(reason, { kind: input.kind, name: input.name, runningWorkflowId });
  setCurrentDetails(`**skipped** — ${reason}`);
  return { kind: input.kind, name: input.name, status: 'skipped', runningWorkflowId, reason };
}

/** Waits for the started run; its failure fails this workflow too (visible in the schedule's recent actions). */
async function follow<W extends Workflow>(input: ScheduledRunInput, handle: ChildWorkflowHandle<W>): Promise<Awaited<ReturnType<W>>> {
  setCurrentDetails(`running ${input.kind} "${input.name}": workflow "${handle.workflowId}", run ${handle.firstExecutionRunId}`);
  try {
    return (await handle.result()) as Awaited<ReturnType<W>>;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const message = `scheduled ${input.kind} "${input.name}" failed: ${failureText(err)}`;
    setCurrentDetails(`**failed** — ${message}`);
    throw ApplicationFailure.nonRetryable(message, 'ScheduledRunFailed');
  }
}

/**
 * What a ferry Temporal Schedule starts. Temporal gives scheduled workflows
 * ids of their own, so the id of this workflow is no lock: it starts the real
 * run as a child under the stream's (or pipeline's) fixed id. When that id is
 * already running — started by the CLI, a replay, a pipeline or a trigger —
 * the child start is refused and this run ends as `skipped`, starting nothing.
 * Otherwise it waits for the run (so the schedule's overlap policy `skip`
 * sees it running) and fails when the run fails.
 */
export async function scheduledRun(input: ScheduledRunInput): Promise<ScheduledRunResult> {
  const { name } = input;
  if (input.kind === 'pipeline') {
    const started = await startLocked<typeof runPipeline>('runPipeline', pipelineWorkflowId(name), [{ pipeline: name, trigger: 'schedule' }]);
    if ('busy' in started) return skipped(input, started.busy);
    const summary = await follow(input, started.handle);
    setCurrentDetails(`**${summary.status}** — pipeline "${name}": ${summary.message ?? ''}`);
    return { kind: 'pipeline', name, status: 'completed', workflowId: started.handle.workflowId, workflowRunId: started.handle.firstExecutionRunId, summary };
  }
  if (input.kind === 'exchange') {
    const node = input.node ?? name;
    const started = await startLocked<typeof exchangeNode>('exchangeNode', exchangeRunName(node), [{ node }]);
    if ('busy' in started) return skipped(input, started.busy);
    const summary = await follow(input, started.handle);
    setCurrentDetails(`**${summary.status}** — exchange of node "${node}": ${summary.message ?? ''}`);
    return { kind: 'exchange', name, status: 'completed', workflowId: started.handle.workflowId, workflowRunId: started.handle.firstExecutionRunId, summary };
  }
  const started = await startLocked<typeof syncStream>('syncStream', streamWorkflowId(name), [{ stream: name }]);
  if ('busy' in started) return skipped(input, started.busy);
  const summary = await follow(input, started.handle);
  setCurrentDetails(`**${summary.status}** — stream "${name}": ${formatCounts(summary.counts)}${summary.message ? `\n\n${summary.message}` : ''}`);
  return { kind: 'stream', name, status: 'completed', workflowId: started.handle.workflowId, workflowRunId: started.handle.firstExecutionRunId, summary };
}
