import { z } from 'zod';
import { durationToMs } from '../core/duration.js';
import { ConfigurationError } from '../core/errors.js';
import type { Projection } from '../core/types.js';
import type { VersionRule } from '../core/version.js';
import type { Source, SourceShape } from '../connectors/source.js';
import type { Target } from '../connectors/target.js';
import { conflictPolicySchema, writeBackSchema, type WriteBackSpec } from '../links/options.js';
import type { ConflictPolicy } from '../links/policies.js';
import { scheduleSchema, type ResolvedSchedule, type ScheduleConfig } from './schedule.js';

/** A Temporal duration: milliseconds, or a string such as '30s' or '5 minutes'. */
export type Duration = string | number;

export type DeletePolicy =
  | 'none'
  /**
   * after a complete pass, delete what the source no longer has, within the guard;
   * `onGuardTrip`: what happens when the guard trips — 'skip' (default: delete
   * nothing, warn) or `{ await: '2h' }` (wait that long for `ferry approve` /
   * `ferry reject`, then skip)
   */
  | { mode: 'mirror'; maxDeleteFraction?: number; onGuardTrip?: GuardTripPolicy }
  | 'mirror'
  /** every run is a complete pass; afterwards what it did not see is deleted, no guard */
  | 'replace';

/** When the mirror-delete guard trips: skip (and warn), or wait for a person's decision for a while. */
export type GuardTripPolicy = 'skip' | { await: Duration };

export interface RetryPolicy {
  maximumAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
}

export interface MapContext {
  stream: string;
  key: readonly string[];
}

export interface StreamOptions<S extends z.ZodType> {
  /** unique; also the Temporal workflow id, so one run per stream at a time */
  name: string;
  source: Source;
  /** validates each raw record; failures become dead letters */
  schema: S;
  /** record -> projection; throw MappingError for a business-rule failure. Default: the record as fields. */
  map?: (record: z.output<S>, context: MapContext) => Projection;
  target: Target;
  /** source field(s) forming the external key; a dotted path reads a nested field (`customer.id`) */
  key: string | readonly string[];
  /** default 500 */
  batchSize?: number;
  /**
   * Split a first load (no checkpoint yet, or a complete pass) into this many key ranges, each
   * loaded by its own child workflow, `atOnce` of them at a time (default: up to 4) spread over the
   * workers (docs/data-path.md). Needs a source that can split (postgresSource, single-column key).
   * Default 1: no split.
   */
  partitions?: number | { count: number; atOnce?: number };
  /** default 'none' */
  deletes?: DeletePolicy;
  /**
   * What tells that a record changed. A field (path) holding the version (default: the source's, e.g.
   * a timestamp or version cursor column), or `{ fields: [...] }`: a hash of these significant fields,
   * also when the source pages by a timestamp — a change to other fields (`last_login`) is then no change.
   */
  version?: string | { fields: readonly string[] };
  /** when there is no version column: version = hash of these fields (default: all fields) */
  significantFields?: readonly string[];
  retry?: RetryPolicy;
  /** continue-as-new after this many batches (Temporal may suggest it sooner); default 100 */
  continueAsNewEvery?: number;
  timeouts?: { activity?: Duration; heartbeat?: Duration };
  /** when `ferry schedule apply` makes Temporal run the stream (cron or interval, time zone, catch-up window) */
  schedule?: ScheduleConfig;
  /**
   * A name shared by the import and the export stream of one entity (a pair declared for both
   * directions): `ferry run <pair> --direction import|export|both`. Set together with `direction`.
   */
  pair?: string;
  /** which way this stream of its `pair` goes: 'import' (into the system you own) or 'export' */
  direction?: StreamDirection;
  /**
   * The pair's conflict policy (on one stream of the pair; 'source'/'target' are this stream's). Makes
   * the pair *linked*: both streams share entity links (no echo, conflicts found and logged). See docs/pairs.md.
   */
  conflicts?: ConflictPolicy;
  /** columns of the source row set after each exported record (linked pairs; see links/options.ts) */
  writeBack?: WriteBackSpec;
}

export type StreamDirection = 'import' | 'export';

/** The stream with every default filled in. */
export interface ResolvedStream {
  name: string;
  source: Source;
  schema: z.ZodType;
  map: (record: unknown, context: MapContext) => Projection;
  target: Target;
  shape: SourceShape;
  version: VersionRule;
  plan: StreamPlan;
  schedule?: ResolvedSchedule | undefined;
  /** set when the stream is one direction of a pair */
  pair?: { name: string; direction: StreamDirection } | undefined;
  /** the pair's conflict policy, when declared on this stream (links/pair-links.ts) */
  conflicts?: ConflictPolicy | undefined;
  writeBack?: WriteBackSpec | undefined;
}

/** What the workflow needs to know of a stream: plain JSON, no functions. */
export interface StreamPlan {
  stream: string;
  /** the source is incremental and the stream is not a 'replace' stream: runs start from the checkpoint */
  incremental: boolean;
  batchSize: number;
  /** first loads split into `count` key ranges (1: none), `atOnce` loaded at a time; absent in plans of runs begun before partitions existed */
  partitions?: PartitionSetting;
  deletes: {
    mode: 'none' | 'mirror' | 'replace';
    maxDeleteFraction: number;
    /** mirror only: wait this long (ms) for a person's approval when the guard trips; absent: skip */
    awaitApprovalMs?: number;
  };
  retry: Required<RetryPolicy>;
  continueAsNewEvery: number;
  timeouts: { activity: Duration; heartbeat: Duration };
}

const STREAM_BRAND = Symbol.for('ferry.stream');

export interface PartitionSetting {
  count: number;
  atOnce: number;
}

/** Records per batch unless the stream or its source (SourceCapabilities.batchSize) says otherwise. */
export const DEFAULT_BATCH_SIZE = 500;

/** Most key ranges one first load is split into. */
export const MAX_PARTITIONS = 64;
/**
 * Partitions loaded at a time unless the stream says otherwise: each holds up
 * to two batches in a worker's memory, and a worker holds 16 (FERRY_HELD_BATCHES).
 */
export const DEFAULT_PARTITIONS_AT_ONCE = 4;

/** A number of key ranges: the stream option, `ferry run --partitions` and a run's input alike. */
export const partitionCount = z.number().int().min(1).max(MAX_PARTITIONS);

/** The setting of a stream or a run (`ferry run --partitions N`): at most 4 at once unless `atOnce` says so. */
export function partitionSetting(value: number | { count: number; atOnce?: number | undefined }): PartitionSetting {
  const count = typeof value === 'number' ? value : value.count;
  const atOnce = typeof value === 'number' ? undefined : value.atOnce;
  return { count, atOnce: Math.min(count, atOnce ?? DEFAULT_PARTITIONS_AT_ONCE) };
}

export interface StreamDefinition {
  readonly [STREAM_BRAND]: true;
  readonly resolved: ResolvedStream;
}

export function isStreamDefinition(value: unknown): value is StreamDefinition {
  return typeof value === 'object' && value !== null && STREAM_BRAND in value;
}

/** A field of the record, or a dotted path to a nested one (`customer.id`). */
const fieldPath = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, "must be a field name, or a dotted path to a nested field such as 'customer.id'");
/** One duration grammar (core/duration.ts, a subset of what Temporal reads): refused here, not inside a workflow. */
const duration = z.union([
  z.number().int().positive(),
  z.string().refine((v) => durationToMs(v) !== undefined, "must be a duration such as '30s', '5 minutes', '1.5h' or '2d' (units: ms, s, m, h, d, w)"),
]);
const hasMethods = (...names: string[]) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'),
    { message: `must be an object with ${names.map((n) => `${n}()`).join(', ')}` },
  );

/** A stream, pair or pipeline name: also part of Temporal workflow and schedule ids. */
export const nameSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:\-/>]+$/, 'may hold letters, digits and . _ : - / > only');

const streamOptionsSchema = z.object({
  name: nameSchema,
  source: hasMethods('check', 'fetch', 'lag', 'close'),
  schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: 'must be a zod schema' }),
  map: z.function().optional(),
  target: hasMethods('check', 'upsert', 'close'),
  key: z.union([fieldPath, z.array(fieldPath).min(1)]),
  batchSize: z.number().int().min(1).max(100_000).optional(),
  partitions: z.union([partitionCount, z.object({ count: partitionCount, atOnce: partitionCount.optional() }).strict()]).default(1),
  deletes: z
    .union([
      z.enum(['none', 'mirror', 'replace']),
      z.object({
        mode: z.literal('mirror'),
        maxDeleteFraction: z.number().gt(0).lte(1).default(0.5),
        onGuardTrip: z.union([z.literal('skip'), z.object({ await: duration }).strict()]).default('skip'),
      }),
    ])
    .default('none'),
  version: z.union([fieldPath, z.object({ fields: z.array(fieldPath).min(1) }).strict()]).optional(),
  significantFields: z.array(z.string().min(1)).min(1).optional(),
  retry: z
    .object({
      maximumAttempts: z.number().int().min(1).max(100).default(5),
      initialInterval: duration.default('1s'),
      backoffCoefficient: z.number().min(1).max(10).default(2),
      maximumInterval: duration.default('1m'),
    })
    .default({ maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' }),
  continueAsNewEvery: z.number().int().min(1).max(1000).default(100),
  timeouts: z
    .object({ activity: duration.default('10m'), heartbeat: duration.default('10s') })
    .default({ activity: '10m', heartbeat: '10s' }),
  schedule: scheduleSchema.optional(),
  pair: nameSchema.optional(),
  direction: z.enum(['import', 'export']).optional(),
  conflicts: conflictPolicySchema.optional(),
  writeBack: writeBackSchema.optional(),
});

/** The bad value itself, quoted, when it is a short plain value (stream options hold no secrets; objects are not shown). */
function quotedInput(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean') return '';
  const text = JSON.stringify(input);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}…` : text})`;
}

function describeIssues(stream: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `stream "${stream}": field "${issue.path.join('.') || '(root)'}": ${issue.message}${quotedInput(issue)}`)
    .join('; ');
}

/** Declares a stream. Throws ConfigurationError naming the stream and the field at fault. */
export function defineStream<S extends z.ZodType>(options: StreamOptions<S>): StreamDefinition {
  const name = typeof options?.name === 'string' ? options.name : '(unnamed)';
  refuseMovedFields(name, options as unknown as Record<string, unknown>);
  const parsed = streamOptionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) throw new ConfigurationError(describeIssues(name, parsed.error));
  const o = parsed.data;
  const source = options.source;
  const target = options.target;
  checkConnector(name, 'source', source);
  checkConnector(name, 'target', target);

  const key = typeof o.key === 'string' ? [o.key] : o.key;
  if ((o.pair === undefined) !== (o.direction === undefined)) {
    throw new ConfigurationError(`stream "${name}": field "${o.pair === undefined ? 'pair' : 'direction'}": pair and direction go together (the pair's name, and which way this stream goes)`);
  }
  const deletes =
    typeof o.deletes === 'string'
      ? { mode: o.deletes, maxDeleteFraction: o.deletes === 'mirror' ? 0.5 : 1 }
      : {
          mode: o.deletes.mode,
          maxDeleteFraction: o.deletes.maxDeleteFraction,
          ...(o.deletes.onGuardTrip === 'skip' ? {} : { awaitApprovalMs: durationToMs(o.deletes.onGuardTrip.await) as number }),
        };
  checkDeletes(name, deletes.mode, source, target);

  const versionField = typeof o.version === 'string' ? o.version : o.version ? undefined : source.versionField;
  const version: VersionRule =
    typeof o.version === 'object' ? { fields: o.version.fields } : versionField ? { field: versionField } : { fields: o.significantFields ?? 'all' };

  const userMap = options.map as ((record: unknown, context: MapContext) => Projection) | undefined;
  const map = userMap ?? ((record: unknown) => ({ kind: name, fields: record as Record<string, unknown> }));

  const resolved: ResolvedStream = {
    name,
    source,
    schema: options.schema,
    map,
    target,
    shape: { stream: name, key },
    version,
    plan: {
      stream: name,
      incremental: source.capabilities.incremental && deletes.mode !== 'replace',
      batchSize: o.batchSize ?? source.capabilities.batchSize ?? DEFAULT_BATCH_SIZE,
      partitions: partitionSetting(o.partitions),
      deletes,
      retry: o.retry,
      continueAsNewEvery: o.continueAsNewEvery,
      timeouts: o.timeouts,
    },
    schedule: o.schedule,
    pair: o.pair !== undefined && o.direction !== undefined ? { name: o.pair, direction: o.direction } : undefined,
    conflicts: options.conflicts,
    writeBack: o.writeBack,
  };
  return { [STREAM_BRAND]: true, resolved };
}

/**
 * `cursor` and `lookBack` were stream fields before the source owned its
 * cursor: refused with the line to write instead, rather than forwarded (a
 * stream-level shorthand would need every source to understand it, and two
 * places to say one thing).
 */
function refuseMovedFields(stream: string, options: Record<string, unknown> | undefined): void {
  if (!options) return;
  const moved = ['cursor', 'lookBack'].filter((f) => options[f] !== undefined);
  if (moved.length === 0) return;
  const old = options.cursor as { strategy?: unknown; column?: unknown } | undefined;
  const parts: string[] = [];
  if (old && typeof old.column === 'string' && typeof old.strategy === 'string' && old.strategy !== 'none') {
    parts.push(`cursor: { column: '${old.column}', kind: '${old.strategy}' }`);
  }
  if (options.lookBack !== undefined) parts.push(`lookBack: ${JSON.stringify(options.lookBack)}`);
  const hint = parts.length
    ? `give them to the source, e.g. postgresSource({ url, table, system, ${parts.join(', ')} })`
    : 'remove it: a snapshot source needs neither';
  throw new ConfigurationError(`stream "${stream}": field "${moved[0]}": ${moved.join(' and ')} moved from the stream to its source, which owns its cursor`, hint);
}

function describeValue(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v) ?? String(v);
}

/** system and capabilities, which every source and target must declare. */
function checkConnector(stream: string, side: 'source' | 'target', connector: Source | Target): void {
  const system: unknown = connector.system;
  if (typeof system !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(system)) {
    const example = side === 'source' ? "postgresSource({ url, table, system: 'crm' })" : "postgresTarget({ url, table, key, system: 'app' })";
    throw new ConfigurationError(
      `stream "${stream}": field "${side}.system": ${system === undefined ? 'is required' : `${describeValue(system)} is not a system name`}: name the system the records ${side === 'source' ? 'come from' : 'go to'} (e.g. 'crm', '1c'), not the database product`,
      `write ${example}`,
    );
  }
  const caps = (connector as { capabilities?: unknown }).capabilities;
  if (typeof caps !== 'object' || caps === null) {
    throw new ConfigurationError(`stream "${stream}": field "${side}.capabilities": the ${side} declares no capabilities`, `a ${side} must say what it can do (see src/connectors/${side}.ts)`);
  }
  if (side === 'target') {
    const t = connector as Target;
    if (!t.capabilities.idempotent) {
      throw new ConfigurationError(
        `stream "${stream}": target system "${t.system}" is not idempotent by key`,
        'ferry may write a batch twice after a crash (activities are at-least-once): the target must upsert by key or send an idempotency key',
      );
    }
    const limit = t.capabilities.batchLimit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
      throw new ConfigurationError(`stream "${stream}": field "target.capabilities.batchLimit": ${describeValue(limit)} is not a positive integer`);
    }
  } else {
    const s = connector as Source;
    if (!s.capabilities.incremental && !s.capabilities.snapshot) {
      throw new ConfigurationError(`stream "${stream}": source system "${s.system}" can read neither incrementally nor a complete pass`);
    }
  }
}

/** A delete policy needs a source that can read a complete pass and a target that can delete. */
function checkDeletes(stream: string, mode: 'none' | 'mirror' | 'replace', source: Source, target: Target): void {
  if (mode === 'none') return;
  if (!source.capabilities.snapshot) {
    throw new ConfigurationError(
      `stream "${stream}": field "deletes": '${mode}' deletes what a complete pass did not see, and source system "${source.system}" cannot read a complete pass`,
      "use deletes: 'none' with this source",
    );
  }
  if (target.capabilities.delete === false || typeof target.delete !== 'function') {
    throw new ConfigurationError(
      `stream "${stream}": field "deletes": '${mode}' needs a target that can delete, and target system "${target.system}" cannot`,
      "use deletes: 'none', or a target that deletes (e.g. postgresTarget, which deletes rows or, with softDelete, marks them)",
    );
  }
}
