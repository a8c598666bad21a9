import { z } from 'zod';
import { ConfigurationError } from '../core/errors.js';
import { isStreamDefinition, nameSchema, type StreamDefinition } from './define-stream.js';
import { scheduleSchema, type ResolvedSchedule, type ScheduleConfig } from './schedule.js';

/** What a step does when one of its streams fails: stop the pipeline (default), or go on to the next step. */
export type StepFailurePolicy = 'stop' | 'continue';

/** A stream of the config, by name or by its definition. */
export type StreamRef = string | StreamDefinition;

/**
 * One step of a pipeline: a stream, several streams run in parallel (an array),
 * or the object form with a name and a failure policy.
 */
export type PipelineStep =
  | StreamRef
  | readonly StreamRef[]
  | { name?: string; streams: StreamRef | readonly StreamRef[]; onFailure?: StepFailurePolicy };

export interface PipelineOptions {
  /** unique across streams and pipelines; the workflow id is `pipeline:<name>` */
  name: string;
  /** run in order; a step's streams run in parallel */
  steps: readonly PipelineStep[];
  /** default policy of the steps that do not set their own. Default 'stop' */
  onFailure?: StepFailurePolicy;
  /** when `ferry schedule apply` makes Temporal run the pipeline */
  schedule?: ScheduleConfig;
}

/** A step with names resolved: plain JSON, also what the pipeline workflow is given. */
export interface ResolvedStep {
  name: string;
  streams: string[];
  onFailure: StepFailurePolicy;
}

export interface ResolvedPipeline {
  name: string;
  steps: ResolvedStep[];
  schedule?: ResolvedSchedule | undefined;
}

const PIPELINE_BRAND = Symbol.for('ferry.pipeline');

export interface PipelineDefinition {
  readonly [PIPELINE_BRAND]: true;
  readonly resolved: ResolvedPipeline;
}

export function isPipelineDefinition(value: unknown): value is PipelineDefinition {
  return typeof value === 'object' && value !== null && PIPELINE_BRAND in value;
}

const policy = z.enum(['stop', 'continue']);

const pipelineOptionsSchema = z.object({
  name: nameSchema,
  // each step is checked by resolveStep, which can say which form was meant
  steps: z.array(z.unknown()).min(1, 'a pipeline needs at least one step'),
  onFailure: policy.default('stop'),
  schedule: scheduleSchema.optional(),
});

const STEP_FORMS = "a stream name, a stream from defineStream(), an array of them (run in parallel), or { name?, streams, onFailure? }";

/** One step's streams, or why the step is not one of the accepted forms. */
function refsOf(value: unknown, where: string): string[] {
  const one = (ref: unknown, at: string): string => {
    if (typeof ref === 'string' && ref.length > 0) return ref;
    if (isStreamDefinition(ref)) return ref.resolved.name;
    throw new ConfigurationError(`${at}: ${JSON.stringify(ref) ?? String(ref)} is not a stream (use ${STEP_FORMS})`);
  };
  if (!Array.isArray(value)) return [one(value, where)];
  if (value.length === 0) throw new ConfigurationError(`${where}: a parallel group needs at least one stream`);
  return value.map((ref, j) => one(ref, `${where}, stream ${j + 1}`));
}

function resolveStep(step: unknown, i: number, pipeline: string, defaultPolicy: StepFailurePolicy): ResolvedStep {
  const where = `pipeline "${pipeline}": step ${i + 1}`;
  let streams: string[];
  let name: string | undefined;
  let onFailure = defaultPolicy;
  if (typeof step === 'object' && step !== null && !Array.isArray(step) && !isStreamDefinition(step)) {
    const o = step as Record<string, unknown>;
    const unknownKeys = Object.keys(o).filter((k) => !['name', 'streams', 'onFailure'].includes(k));
    if (unknownKeys.length) throw new ConfigurationError(`${where}: unknown field ${unknownKeys.map((k) => `"${k}"`).join(', ')} (a step object has name, streams, onFailure)`);
    if (o.streams === undefined) throw new ConfigurationError(`${where}: field "streams" is required`);
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw new ConfigurationError(`${where}: field "name" must be a non-empty string`);
    if (o.onFailure !== undefined && o.onFailure !== 'stop' && o.onFailure !== 'continue') {
      throw new ConfigurationError(`${where}: field "onFailure" must be 'stop' or 'continue', not ${JSON.stringify(o.onFailure)}`);
    }
    streams = refsOf(o.streams, `${where}, field "streams"`);
    name = o.name as string | undefined;
    onFailure = (o.onFailure as StepFailurePolicy | undefined) ?? defaultPolicy;
  } else {
    streams = refsOf(step, where);
  }
  const twice = streams.find((s, j) => streams.indexOf(s) !== j);
  if (twice) throw new ConfigurationError(`${where}: stream "${twice}" appears twice in one parallel group`);
  return { name: name ?? streams.join(' + '), streams, onFailure };
}

/**
 * Declares a pipeline: ordered steps, each one stream or a group of streams run
 * in parallel, each run as the stream's own workflow (so the one-run-per-stream
 * lock holds). Stream names are checked against the config when it is loaded.
 * Throws ConfigurationError naming the pipeline, the step and the field at fault.
 *
 * @example definePipeline({ name: 'morning', steps: ['reference', ['ft.a', 'ft.b'], { streams: 'stock', onFailure: 'continue' }] })
 */
export function definePipeline(options: PipelineOptions): PipelineDefinition {
  const name = typeof options?.name === 'string' ? options.name : '(unnamed)';
  const parsed = pipelineOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ConfigurationError(
      parsed.error.issues
        .map((issue) => `pipeline "${name}": field "${issue.path.join('.') || '(root)'}": ${issue.message}`)
        .join('; '),
    );
  }
  const o = parsed.data;
  const steps = o.steps.map((step, i) => resolveStep(step, i, name, o.onFailure));
  return { [PIPELINE_BRAND]: true, resolved: { name, steps, schedule: o.schedule } };
}

/** A named pipeline is not in the loaded configuration. */
export class UnknownPipelineError extends ConfigurationError {
  constructor(pipeline: string, known: readonly string[]) {
    super(`unknown pipeline "${pipeline}"`, `known pipelines: ${known.join(', ') || '(none)'}`);
  }
}

/**
 * Indexes the config's pipelines by name, checking that names are unique
 * across streams and pipelines (they share the schedule id space) and that
 * every step names a stream of the config.
 */
export function indexPipelines(definitions: readonly PipelineDefinition[], streamNames: readonly string[]): Map<string, ResolvedPipeline> {
  if (!Array.isArray(definitions)) throw new ConfigurationError('pipelines must be an array of definePipeline() results');
  const streams = new Set(streamNames);
  const pipelines = new Map<string, ResolvedPipeline>();
  for (const [i, d] of definitions.entries()) {
    if (!isPipelineDefinition(d)) throw new ConfigurationError(`pipelines[${i}] is not made by definePipeline()`);
    const p = d.resolved;
    if (pipelines.has(p.name)) throw new ConfigurationError(`pipeline "${p.name}" is defined twice`, 'pipeline names must be unique');
    if (streams.has(p.name)) throw new ConfigurationError(`pipeline "${p.name}" has the name of a stream`, 'names must be unique across streams and pipelines');
    for (const [s, step] of p.steps.entries()) {
      for (const stream of step.streams) {
        if (!streams.has(stream)) {
          throw new ConfigurationError(`pipeline "${p.name}": step ${s + 1} ("${step.name}"): unknown stream "${stream}"`, `known streams: ${streamNames.join(', ') || '(none)'}`);
        }
      }
    }
    pipelines.set(p.name, p);
  }
  return pipelines;
}
