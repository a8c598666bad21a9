/** Public API for stream definitions (ferry.config.ts). */
export { defineStream, type StreamOptions, type DeletePolicy, type RetryPolicy, type MapContext } from './config/define-stream.js';
export { defineConfig, type FerryConfig } from './config/load-config.js';
export { definePipeline, type PipelineOptions, type PipelineStep, type StepFailurePolicy } from './config/define-pipeline.js';
export type { ScheduleConfig } from './config/schedule.js';
export { MappingError, ConfigurationError, RecordError } from './core/errors.js';
export type { Projection, Cursor, RawRow } from './core/types.js';
export type { Source, SourcePage, FetchRequest, SourceShape, CursorStrategy } from './connectors/source.js';
export type { Target, TargetRow, UpsertResult } from './connectors/target.js';
export { postgresSource, type PostgresSourceOptions } from './connectors/postgres/source.js';
export { postgresTarget, type PostgresTargetOptions } from './connectors/postgres/target.js';
export { defineExchange, type ExchangeOptions, type EntityOptions, type LineOptions, type ConflictPolicyName } from './exchange/define-exchange.js';
export type { ExchangeConfig, PeripheralNodeConfig } from './exchange/runtime.js';
export type { ConflictContext, CustomResolver, EntityDoc } from './exchange/policies.js';
