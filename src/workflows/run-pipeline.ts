import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { tagOutcome, tagRun } from './search-attributes.js';
import type { FerryActivities } from '../activities/index.js';
import type { ResolvedStep } from '../config/define-pipeline.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import { failureText, startLocked } from './child-runs.js';
import { streamWorkflowId } from './ids.js';
import type {
  PipelineStatus,
  PipelineStepOutcome,
  PipelineStreamOutcome,
  PipelineSummary,
  RunPipelineInput,
  StepStatus,
} from './pipeline-contracts.js';
import { pipelineProgressQuery } from './pipeline-definitions.js';
import type { syncStream } from './sync-stream.js';

const acts = proxyActivities<FerryActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, 'UnknownPipelineError'] },
});

const now = (): string => new Date().toISOString();

/** One stream of a step, as the stream's own workflow (id = its lock), to its end. */
async function runStream(stream: string): Promise<PipelineStreamOutcome> {
  const workflowId = streamWorkflowId(stream);
  const started = await startLocked<typeof syncStream>('syncStream', workflowId, [{ stream }]);
  if ('busy' in started) {
    return {
      stream,
      workflowId,
      status: 'already-running',
      error: `stream "${stream}" already has a run in progress (workflow "${started.busy}", started by the CLI, a schedule, a replay or another pipeline); the step started nothing`,
    };
  }
  const workflowRunId = started.handle.firstExecutionRunId;
  try {
    const summary = await started.handle.result();
    return { stream, workflowId, workflowRunId, runId: summary.runId, status: summary.status, counts: summary.counts, message: summary.message };
  } catch (err) {
    return { stream, workflowId, workflowRunId, status: isCancellation(err) ? 'cancelled' : 'failed', error: failureText(err) };
  }
}

function stepStatus(runs: readonly PipelineStreamOutcome[]): StepStatus {
  if (runs.some((r) => r.status === 'failed' || r.status === 'cancelled' || r.status === 'already-running')) return 'failed';
  if (runs.some((r) => r.status === 'warning')) return 'warning';
  return 'succeeded';
}

function describeSteps(steps: readonly PipelineStepOutcome[]): string {
  return steps.map((s) => `${s.step}. ${s.name}: **${s.status}**${s.runs.filter((r) => r.error).map((r) => ` — ${r.stream}: ${r.error}`).join('')}`).join('\n');
}

/** The outcome of the whole run and one line saying why. */
function conclude(steps: readonly PipelineStepOutcome[], stoppedAt: PipelineStepOutcome | undefined): { status: PipelineStatus; message: string } {
  const failed = steps.filter((s) => s.status === 'failed');
  const streamsOf = (s: PipelineStepOutcome) => s.runs.filter((r) => r.status !== 'succeeded' && r.status !== 'warning').map((r) => `${r.stream} ${r.status}`).join(', ');
  if (stoppedAt) {
    const notRun = steps.filter((s) => s.status === 'not-run').map((s) => s.step);
    return {
      status: 'failed',
      message: `step ${stoppedAt.step} (${stoppedAt.name}) failed: ${streamsOf(stoppedAt)}; pipeline stopped${notRun.length ? `, steps ${notRun.join(', ')} not run` : ''}`,
    };
  }
  if (failed.length) return { status: 'warning', message: `${failed.map((s) => `step ${s.step} (${s.name}) failed: ${streamsOf(s)}`).join('; ')}; later steps ran (onFailure: continue)` };
  const warned = steps.filter((s) => s.status === 'warning');
  if (warned.length) return { status: 'warning', message: `steps with warnings: ${warned.map((s) => `${s.step} (${s.name})`).join(', ')}` };
  return { status: 'succeeded', message: `${steps.length} step${steps.length === 1 ? '' : 's'} succeeded` };
}

/**
 * One run of a pipeline (workflow id `pipeline:<name>`, so one at a time).
 * Steps run in order; a step's streams run in parallel, each as the child
 * workflow `syncStream` under the stream's own id, so the stream lock holds
 * against the CLI, schedules and other pipelines. A failed step stops the
 * pipeline unless its policy is `continue`. The run's row in
 * ferry_pipeline_runs (written by activities) says what each step did.
 */
export async function runPipeline(input: RunPipelineInput): Promise<PipelineSummary> {
  const info = workflowInfo();
  const runId = info.runId;
  let steps: PipelineStepOutcome[] = [];
  setHandler(pipelineProgressQuery, () => steps);

  let finished = false;
  let tagged = false;
  const finish = async (status: PipelineStatus, message: string, error?: string): Promise<PipelineSummary> => {
    finished = true;
    tagOutcome(tagged, status, {}, `${status}: ${message}`);
    // The row must be written even while the pipeline is being cancelled.
    await CancellationScope.nonCancellable(() => acts.finishPipeline({ runId, status, steps, message, error }));
    setCurrentDetails(`**${status}** — ${message}\n\n${describeSteps(steps)}`);
    return { runId, pipeline: input.pipeline, workflowId: info.workflowId, status, steps, message };
  };

  let plan: ResolvedStep[];
  try {
    const begun = await acts.beginPipeline({ pipeline: input.pipeline, runId, workflowId: info.workflowId, trigger: input.trigger ?? 'manual', startedAt: now() });
    plan = begun.steps;
    tagged = begun.searchAttributes ?? false;
    tagRun(tagged, { pipeline: input.pipeline, mode: 'pipeline' });
  } catch (err) {
    const error = failureText(err);
    await finish(isCancellation(err) ? 'cancelled' : 'failed', `pipeline "${input.pipeline}" could not start`, error);
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.nonRetryable(`pipeline "${input.pipeline}" failed: ${error}`, 'PipelineFailed');
  }
  steps = plan.map((s, i) => ({ ...s, step: i + 1, status: 'pending', runs: [] }));

  const root = CancellationScope.current();
  let stoppedAt: PipelineStepOutcome | undefined;
  try {
    for (const [i, step] of steps.entries()) {
      if (stoppedAt || root.consideredCancelled) {
        steps[i] = { ...step, status: 'not-run' };
        continue;
      }
      steps[i] = { ...step, status: 'running', startedAt: now() };
      setCurrentDetails(`step ${step.step} of ${steps.length}: ${step.name}\n\n${describeSteps(steps)}`);
      const runs = await Promise.all(step.streams.map(runStream));
      const done = { ...(steps[i] as PipelineStepOutcome), runs, status: stepStatus(runs), finishedAt: now() };
      steps[i] = await CancellationScope.nonCancellable(() => acts.recordPipelineStep({ runId, step: done }));
      if (root.consideredCancelled) steps[i] = { ...(steps[i] as PipelineStepOutcome), status: 'cancelled' };
      else if (done.status === 'failed' && step.onFailure === 'stop') stoppedAt = steps[i];
    }
  } catch (err) {
    if (finished) throw err;
    const error = failureText(err);
    steps = steps.map((s) => (s.status === 'pending' ? { ...s, status: 'not-run' } : s.status === 'running' ? { ...s, status: 'failed', finishedAt: now() } : s));
    if (isCancellation(err)) {
      await finish('cancelled', 'pipeline cancelled', error);
      throw err;
    }
    await finish('failed', `pipeline failed: ${error}`, error);
    throw ApplicationFailure.nonRetryable(`pipeline "${input.pipeline}" failed: ${error}`, 'PipelineFailed');
  }

  if (root.consideredCancelled) {
    await finish('cancelled', 'pipeline cancelled; the streams running were asked to stop at a batch boundary');
    throw new CancelledFailure(`pipeline "${input.pipeline}" cancelled`);
  }
  const { status, message } = conclude(steps, stoppedAt);
  const summary = await finish(status, message);
  if (status === 'failed') throw ApplicationFailure.nonRetryable(`pipeline "${input.pipeline}": ${message}`, 'PipelineFailed', summary);
  return summary;
}
