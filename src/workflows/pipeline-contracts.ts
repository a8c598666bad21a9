/**
 * What crosses Temporal history for pipelines and scheduled runs: names, ids,
 * statuses and counts. Types only: safe to import from workflow code.
 */
import type { ResolvedStep } from '../config/define-pipeline.js';
import type { RunCounts, RunStatus } from '../core/types.js';
import type { RunSummary } from './contracts.js';
import type { ExchangeSummary } from './exchange-contracts.js';

/** Who started a run: a person or script (`ferry pipeline run`, the client), or a Temporal Schedule. */
export type RunTrigger = 'manual' | 'schedule';

export interface RunPipelineInput {
  pipeline: string;
  trigger?: RunTrigger;
}

/**
 * How one stream of a step ended. `already-running`: the stream had a run in
 * progress started elsewhere (CLI, schedule, replay, another pipeline), so the
 * step could not take its lock and started nothing.
 */
export type StreamOutcomeStatus = Exclude<RunStatus, 'running'> | 'already-running';

export interface PipelineStreamOutcome {
  stream: string;
  /** the stream's workflow id (its lock) */
  workflowId: string;
  /** the Temporal run id of the child workflow, when it started */
  workflowRunId?: string | undefined;
  /** ferry's run id (the ferry_runs row), when the run began */
  runId?: string | undefined;
  status: StreamOutcomeStatus;
  counts?: RunCounts | undefined;
  message?: string | undefined;
  error?: string | undefined;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'warning' | 'failed' | 'cancelled' | 'not-run';

export interface PipelineStepOutcome extends ResolvedStep {
  /** 1-based */
  step: number;
  status: StepStatus;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  runs: PipelineStreamOutcome[];
}

export type PipelineStatus = Exclude<RunStatus, 'running'>;

export interface PipelineSummary {
  /** the pipeline run's id: its ferry_pipeline_runs row, also the Temporal run id */
  runId: string;
  pipeline: string;
  workflowId: string;
  status: PipelineStatus;
  steps: PipelineStepOutcome[];
  message?: string | undefined;
}

export interface BeginPipelineInput {
  pipeline: string;
  runId: string;
  workflowId: string;
  trigger: RunTrigger;
  startedAt: string;
}

export interface BeginPipelineOutput {
  steps: ResolvedStep[];
  searchAttributes?: boolean;
}

export interface RecordPipelineStepInput {
  runId: string;
  step: PipelineStepOutcome;
}

export interface FinishPipelineInput {
  runId: string;
  status: PipelineStatus;
  steps: PipelineStepOutcome[];
  message?: string | undefined;
  error?: string | undefined;
}

/** What a Temporal Schedule starts: a stream or a pipeline, by name. */
export interface ScheduledRunInput {
  /** exchange: `name` is the schedule's (exchange:<node>), `node` the peripheral node */
  kind: 'stream' | 'pipeline' | 'exchange';
  node?: string;
  name: string;
}

/**
 * How a scheduled start ended. `skipped`: the stream or pipeline already had a
 * run in progress (started by the CLI, another schedule, a pipeline or a
 * replay), named by `runningWorkflowId`; nothing was started.
 */
export type ScheduledRunResult =
  | { kind: ScheduledRunInput['kind']; name: string; status: 'skipped'; runningWorkflowId: string; reason: string }
  | { kind: 'stream'; name: string; status: 'completed'; workflowId: string; workflowRunId: string; summary: RunSummary }
  | { kind: 'pipeline'; name: string; status: 'completed'; workflowId: string; workflowRunId: string; summary: PipelineSummary }
  | { kind: 'exchange'; name: string; status: 'completed'; workflowId: string; workflowRunId: string; summary: ExchangeSummary };
