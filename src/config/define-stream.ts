import { z } from 'zod';
import { ConfigurationError } from '../core/errors.js';
import type { Projection } from '../core/types.js';
import type { VersionRule } from '../core/version.js';
import type { CursorStrategy, Source, SourceShape } from '../connectors/source.js';
import type { Target } from '../connectors/target.js';
import { scheduleSchema, type ResolvedSchedule, type ScheduleConfig } from './schedule.js';

/** A Temporal duration: milliseconds, or a string such as '30s' or '5 minutes'. */
export type Duration = string | number;

export type DeletePolicy =
  | 'none'
  /** after a complete pass, delete what the source no longer has, within the guard */
  | { mode: 'mirror'; maxDeleteFraction?: number }
  | 'mirror'
  /** every run is a complete pass; afterwards what it did not see is deleted, no guard */
  | 'replace';

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
  /** source field(s) forming the external key */
  key: string | readonly string[];
  /** default: { strategy: 'none' } (every run is a full snapshot pass) */
  cursor?: CursorStrategy;
  /** default 500 */
  batchSize?: number;
  /** default 'none' */
  deletes?: DeletePolicy;
  /** incremental runs re-read this far behind the checkpoint ('10 minutes', or a number for sequences) */
  lookBack?: string | number;
  /** source column holding the record version; default: the cursor column for timestamp/version cursors */
  version?: string;
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
}

/** What the workflow needs to know of a stream: plain JSON, no functions. */
export interface StreamPlan {
  stream: string;
  incremental: boolean;
  batchSize: number;
  deletes: { mode: 'none' | 'mirror' | 'replace'; maxDeleteFraction: number };
  retry: Required<RetryPolicy>;
  continueAsNewEvery: number;
  timeouts: { activity: Duration; heartbeat: Duration };
}

const STREAM_BRAND = Symbol.for('ferry.stream');

export interface StreamDefinition {
  readonly [STREAM_BRAND]: true;
  readonly resolved: ResolvedStream;
}

export function isStreamDefinition(value: unknown): value is StreamDefinition {
  return typeof value === 'object' && value !== null && STREAM_BRAND in value;
}

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain column name (letters, digits, _)');
const duration = z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*[a-z]*$/i, "must look like '30s' or '5 minutes'")]);
const hasMethods = (...names: string[]) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'),
    { message: `must be an object with ${names.map((n) => `${n}()`).join(', ')}` },
  );

/** A stream, pair or pipeline name: also part of Temporal workflow and schedule ids. */
export const nameSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:\-/>]+$/, 'may hold letters, digits and . _ : - / > only');

const streamOptionsSchema = z.object({
  name: nameSchema,
  source: hasMethods('check', 'fetch', 'close'),
  schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: 'must be a zod schema' }),
  map: z.function().optional(),
  target: hasMethods('check', 'upsert', 'delete', 'close'),
  key: z.union([identifier, z.array(identifier).min(1)]),
  cursor: z
    .discriminatedUnion('strategy', [
      z.object({ strategy: z.literal('timestamp'), column: identifier }),
      z.object({ strategy: z.literal('sequence'), column: identifier }),
      z.object({ strategy: z.literal('version'), column: identifier }),
      z.object({ strategy: z.literal('none') }),
    ])
    .default({ strategy: 'none' }),
  batchSize: z.number().int().min(1).max(100_000).default(500),
  deletes: z
    .union([
      z.enum(['none', 'mirror', 'replace']),
      z.object({ mode: z.literal('mirror'), maxDeleteFraction: z.number().gt(0).lte(1).default(0.5) }),
    ])
    .default('none'),
  lookBack: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  version: identifier.optional(),
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
    .object({ activity: duration.default('10m'), heartbeat: duration.default('30s') })
    .default({ activity: '10m', heartbeat: '30s' }),
  schedule: scheduleSchema.optional(),
  pair: nameSchema.optional(),
  direction: z.enum(['import', 'export']).optional(),
});

function describeIssues(stream: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `stream "${stream}": field "${issue.path.join('.') || '(root)'}": ${issue.message}`)
    .join('; ');
}

/** Declares a stream. Throws ConfigurationError naming the stream and the field at fault. */
export function defineStream<S extends z.ZodType>(options: StreamOptions<S>): StreamDefinition {
  const name = typeof options?.name === 'string' ? options.name : '(unnamed)';
  const parsed = streamOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigurationError(describeIssues(name, parsed.error));
  const o = parsed.data;

  const key = typeof o.key === 'string' ? [o.key] : o.key;
  const cursor = o.cursor as CursorStrategy;
  if (cursor.strategy === 'none' && o.lookBack !== undefined) {
    throw new ConfigurationError(`stream "${name}": field "lookBack": needs a cursor (a snapshot stream re-reads everything anyway)`);
  }
  if ((o.pair === undefined) !== (o.direction === undefined)) {
    throw new ConfigurationError(`stream "${name}": field "${o.pair === undefined ? 'pair' : 'direction'}": pair and direction go together (the pair's name, and which way this stream goes)`);
  }
  const deletes =
    typeof o.deletes === 'string'
      ? { mode: o.deletes, maxDeleteFraction: o.deletes === 'mirror' ? 0.5 : 1 }
      : { mode: o.deletes.mode, maxDeleteFraction: o.deletes.maxDeleteFraction };

  const versionColumn = o.version ?? (cursor.strategy === 'timestamp' || cursor.strategy === 'version' ? cursor.column : undefined);
  const version: VersionRule = versionColumn ? { column: versionColumn } : { fields: o.significantFields ?? 'all' };

  const userMap = options.map as ((record: unknown, context: MapContext) => Projection) | undefined;
  const map = userMap ?? ((record: unknown) => ({ kind: name, fields: record as Record<string, unknown> }));

  const resolved: ResolvedStream = {
    name,
    source: options.source,
    schema: options.schema,
    map,
    target: options.target,
    shape: { stream: name, key, cursor, lookBack: o.lookBack },
    version,
    plan: {
      stream: name,
      incremental: cursor.strategy !== 'none' && deletes.mode !== 'replace',
      batchSize: o.batchSize,
      deletes,
      retry: o.retry,
      continueAsNewEvery: o.continueAsNewEvery,
      timeouts: o.timeouts,
    },
    schedule: o.schedule,
    pair: o.pair !== undefined && o.direction !== undefined ? { name: o.pair, direction: o.direction } : undefined,
  };
  return { [STREAM_BRAND]: true, resolved };
}
