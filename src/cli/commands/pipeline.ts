import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { failedRunReason, failedRunStatus, startOrRefuse } from '../start-workflow.js';
import { Command } from 'commander';
import { z } from 'zod';
import { formatCounts } from '../../core/types.js';
import { getPipelineRun, lastPipelineRuns } from '../../state/pipeline-runs.js';
import type { PipelineRunRow } from '../../state/schema.js';
import { pipelineWorkflowId } from '../../workflows/ids.js';
import type { PipelineStatus, PipelineStepOutcome, PipelineSummary } from '../../workflows/pipeline-contracts.js';
import { pipelineProgressQuery } from '../../workflows/pipeline-definitions.js';
import type { runPipeline } from '../../workflows/run-pipeline.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { exitCodeOf } from '../run-outcome.js';
import { printTable } from '../table.js';
import { formatDuration, formatRelative } from '../time-format.js';

const runOptions = z.object({ wait: z.boolean().default(false), json: z.boolean().default(false) });
const listOptions = z.object({ json: z.boolean().default(false) });

/** A pipeline run as the CLI reports it: from the workflow's summary, or from its row when it failed. */
interface PipelineReport {
  runId: string;
  pipeline: string;
  workflowId: string;
  status: PipelineStatus;
  message?: string | undefined;
  error?: string | undefined;
  steps: PipelineStepOutcome[];
}

function fromRow(row: PipelineRunRow): PipelineReport {
  return {
    runId: row.id,
    pipeline: row.pipeline,
    workflowId: row.workflow_id,
    status: row.status as PipelineStatus,
    message: row.message ?? undefined,
    error: row.error ?? undefined,
    steps: row.steps as unknown as PipelineStepOutcome[],
  };
}

function stepLines(steps: readonly PipelineStepOutcome[]): string {
  const out: string[] = [];
  for (const s of steps) {
    const took = s.startedAt && s.finishedAt ? ` (${formatDuration((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000)})` : '';
    out.push(`  ${s.step}. ${s.name}: ${s.status}${took}${s.onFailure === 'continue' ? ' [onFailure: continue]' : ''}`);
    for (const r of s.runs) {
      out.push(`       ${r.stream}: ${r.status}${r.counts ? ` — ${formatCounts(r.counts)}` : ''}${r.runId ? ` (run ${r.runId})` : ''}`);
      if (r.error) out.push(`         ${r.error}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Step changes on stderr while waiting (not with --json). */
function watchSteps(handle: WorkflowHandle<typeof runPipeline>, pipeline: string): () => void {
  const seen = new Map<number, string>();
  const timer = setInterval(() => {
    handle
      .query(pipelineProgressQuery)
      .then((steps) => {
        for (const s of steps) {
          if (seen.get(s.step) === s.status || s.status === 'pending') continue;
          seen.set(s.step, s.status);
          process.stderr.write(`${pipeline}: step ${s.step}/${steps.length} ${s.name}: ${s.status}\n`);
        }
      })
      .catch(() => undefined);
  }, 1000);
  return () => clearInterval(timer);
}

function runCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('start a run of a pipeline (one run per pipeline at a time; each stream keeps its own lock)')
    .argument('<pipeline>', 'pipeline name')
    .option('--wait', 'wait for the run to end and print what each step did')
    .option('--json', 'machine-readable output')
    .action(async (name: string, raw: unknown) => {
      const options = runOptions.parse(raw);
      (await ctx.streams()).pipeline(name);
      const client = await ctx.client();
      const workflowId = pipelineWorkflowId(name);
      const started = await startOrRefuse<typeof runPipeline>(client, 'runPipeline', { workflowId, taskQueue: ctx.settings.taskQueue, args: [{ pipeline: name, trigger: 'manual' }] });
      if ('refused' in started) {
        throw new CliExit(ExitCode.alreadyRunning, `pipeline "${name}" is already running (workflow id "${workflowId}", run ${started.refused.runningRunId ?? 'unknown'}); wait for it, or see it in the Temporal Web UI`);
      }
      const { handle } = started;
      const runId = handle.firstExecutionRunId;
      if (!options.wait) {
        if (options.json) printJson({ pipeline: name, workflowId, workflowRunId: runId, runId, started: true });
        else process.stdout.write(`started pipeline ${name} (workflow "${workflowId}", run ${runId}); follow it with: ferry pipeline list\n`);
        return;
      }
      const stopWatching = options.json ? () => undefined : watchSteps(handle, name);
      let report: PipelineReport;
      try {
        const summary: PipelineSummary = await handle.result();
        report = summary;
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        // A failed or cancelled pipeline throws; its row says what each step did.
        const row = await getPipelineRun(ctx.db(), runId);
        const status: PipelineStatus = failedRunStatus(err);
        report = row ? { ...fromRow(row), status: row.status === 'running' ? status : (row.status as PipelineStatus) } : { runId, pipeline: name, workflowId, status, error: failedRunReason(err), steps: [] };
      } finally {
        stopWatching();
      }
      if (options.json) printJson(report);
      else {
        process.stdout.write(`pipeline ${name}: ${report.status}${report.message ? ` — ${report.message}` : ''}\n`);
        process.stdout.write(stepLines(report.steps));
        if (report.error && report.status === 'failed') process.stderr.write(`pipeline ${name}: ${report.error}\n`);
      }
      const code = exitCodeOf(report.status);
      if (code !== ExitCode.ok) throw new CliExit(code);
    });
}

function listCommand(ctx: CliContext): Command {
  return new Command('list')
    .description('the pipelines of the config: steps, schedule, last run')
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = listOptions.parse(raw);
      const pipelines = (await ctx.streams()).pipelines();
      const last = await lastPipelineRuns(ctx.db(), pipelines.map((p) => p.name));
      if (options.json) {
        return printJson(
          pipelines.map((p) => {
            const row = last.get(p.name);
            return { name: p.name, workflowId: pipelineWorkflowId(p.name), steps: p.steps, schedule: p.schedule ?? null, lastRun: row ? { ...fromRow(row), startedAt: row.started_at, finishedAt: row.finished_at, trigger: row.trigger } : null };
          }),
        );
      }
      if (pipelines.length === 0) return void process.stdout.write('no pipelines in the config\n');
      printTable(
        [{ header: 'pipeline' }, { header: 'steps', maxWidth: 60 }, { header: 'schedule', maxWidth: 50 }, { header: 'last run' }, { header: 'status' }, { header: 'message', maxWidth: 70 }],
        pipelines.map((p) => {
          const row = last.get(p.name);
          return [
            p.name,
            p.steps.map((s, i) => `${i + 1}. ${s.name}`).join(' → '),
            p.schedule?.description ?? null,
            row ? `${formatRelative(row.started_at)} (${row.trigger})` : 'never',
            row?.status ?? null,
            row?.message ?? row?.error ?? null,
          ];
        }),
      );
    });
}

/** `ferry pipeline run | list`. */
export function pipelineCommand(ctx: CliContext): Command {
  return new Command('pipeline').description('pipelines: ordered steps of streams (a step may run several streams in parallel)').addCommand(runCommand(ctx)).addCommand(listCommand(ctx));
}
