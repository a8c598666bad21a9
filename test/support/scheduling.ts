import type { Client } from '@temporalio/client';
import type { PipelineStep } from '../../src/config/define-pipeline.js';
import type { ScheduleConfig } from '../../src/config/schedule.js';
import { pipelineWorkflowId } from '../../src/workflows/ids.js';
import type { PipelineStepOutcome } from '../../src/workflows/pipeline-contracts.js';
import type { runPipeline } from '../../src/workflows/run-pipeline.js';
import { cli } from './cli-process.js';
import type { Harness } from './harness.js';

/** What test/fixtures/scheduling.config.ts turns into a config for CLI processes. */
export interface SchedulingFixture {
  url: string;
  streams: { name: string; source: string; target: string; schedule?: ScheduleConfig }[];
  pipelines?: { name: string; steps: PipelineStep[]; schedule?: ScheduleConfig }[];
}

/** Runs `ferry ...args` as a real process with the fixture as its config. */
export function ferry(h: Harness, fixture: SchedulingFixture, args: readonly string[]) {
  return cli(h, args, { config: 'scheduling.config.ts', env: { FERRY_TEST_SCHEDULING: JSON.stringify(fixture) } });
}

export interface RunRowLite {
  id: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  created: number;
  error: string | null;
  workflow_id: string;
}

export async function runRows(h: Harness, stream: string): Promise<RunRowLite[]> {
  const { rows } = await h.db.pool.query<RunRowLite>(
    `select id, status, started_at, finished_at, created, error, workflow_id from ferry_runs where stream = $1 order by started_at`,
    [stream],
  );
  return rows;
}

export interface PipelineRowLite {
  id: string;
  pipeline: string;
  status: string;
  trigger: string;
  message: string | null;
  error: string | null;
  steps: PipelineStepOutcome[];
  finished_at: Date | null;
}

export async function pipelineRows(h: Harness, pipeline: string): Promise<PipelineRowLite[]> {
  const { rows } = await h.db.pool.query<PipelineRowLite>(
    `select id, pipeline, status, trigger, message, error, steps, finished_at from ferry_pipeline_runs where pipeline = $1 order by started_at`,
    [pipeline],
  );
  return rows;
}

/** Starts a pipeline run through the client, as `ferry pipeline run` does. */
export function startPipeline(h: Harness, pipeline: string) {
  return h.client.workflow.start<typeof runPipeline>('runPipeline', {
    workflowId: pipelineWorkflowId(pipeline),
    taskQueue: h.settings.taskQueue,
    args: [{ pipeline, trigger: 'manual' }],
  });
}

/**
 * Executions of a workflow type under one workflow id, a continue-as-new chain
 * counting once (its links but the last end as CONTINUED_AS_NEW).
 */
export async function executions(client: Client, workflowType: string, workflowId: string): Promise<{ runId: string; status: string }[]> {
  const found: { runId: string; status: string }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = '${workflowType}' AND WorkflowId = '${workflowId}'` })) {
    if (w.status.name !== 'CONTINUED_AS_NEW') found.push({ runId: w.runId, status: w.status.name });
  }
  return found;
}

/**
 * How many executions (see `executions`) there are once things are quiet: waits
 * until `expected` are visible (the visibility store may lag a little), then
 * waits out `quietMs` more, so that a duplicate started late shows up, and
 * counts. Returns as soon as more than `expected` are seen. For "exactly n"
 * checks: returning at the first `expected` seen would let a late duplicate pass.
 */
export async function settledExecutionCount(
  client: Client,
  workflowType: string,
  workflowId: string,
  expected: number,
  { quietMs = 3_000, timeoutMs = 10_000 }: { quietMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const deadline = Date.now() + timeoutMs;
  let seen = (await executions(client, workflowType, workflowId)).length;
  while (seen < expected && Date.now() < deadline) {
    await sleep(200);
    seen = (await executions(client, workflowType, workflowId)).length;
  }
  const quietUntil = Date.now() + quietMs;
  while (seen <= expected && Date.now() < quietUntil) {
    await sleep(250);
    seen = (await executions(client, workflowType, workflowId)).length;
  }
  return seen;
}
