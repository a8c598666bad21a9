/** Public API for stream definitions (ferry.config.ts). */
export { defineStream, type StreamOptions, type DeletePolicy, type RetryPolicy, type MapContext } from './config/define-stream.js';
export { defineConfig, type FerryConfig } from './config/load-config.js';
export { definePipeline, type PipelineOptions, type PipelineStep, type StepFailurePolicy } from './config/define-pipeline.js';
export type { ScheduleConfig } from './config/schedule.js';
export { MappingError, ConfigurationError, RecordError } from './core/errors.js';
export type { Projection, Cursor, RawRow } from './core/types.js';
export { JSON_NULL, isJsonNull, LosslessNumber, isLosslessNumber, type JsonNull } from './core/json-values.js';
export type { Source, SourceCapabilities, SourcePage, FetchRequest, SourceShape } from './connectors/source.js';
export type { Target, TargetCapabilities, TargetRow, DeleteRow, TargetRejection, UpsertResult } from './connectors/target.js';
export {
  CONNECTOR_ERROR_CODES,
  RecordRejectedError,
  TransientError,
  TransientWithDelayError,
  isRetryable,
  retryAfterMs,
  type ConnectorErrorCode,
} from './connectors/errors.js';
export { postgresSource, type PostgresSourceOptions, type PostgresCursor } from './connectors/postgres/source.js';
export { postgresTarget, type PostgresTargetOptions } from './connectors/postgres/target.js';
export {
  httpSource,
  httpTarget,
  type HttpSourceOptions,
  type HttpTargetOptions,
  type HttpBatchEndpoint,
  type RecordRetryOptions,
  type HttpConnection,
  type HttpResponseHook,
  type HttpResponseView,
  type HttpIncremental,
  type Pagination,
  type PageRequest,
  type SecretRef,
} from './connectors/http/index.js';
export { defineExchange, type ExchangeOptions, type EntityOptions, type LineOptions, type ConflictPolicyName } from './exchange/define-exchange.js';
export type { ExchangeConfig, PeripheralNodeConfig } from './exchange/runtime.js';
export type { ConflictContext, CustomResolver, EntityDoc } from './exchange/policies.js';
export { mysqlSource, type MysqlSourceOptions, type MysqlCursor } from './connectors/mysql/source.js';
export { mysqlTarget, type MysqlTargetOptions } from './connectors/mysql/target.js';
export { natsTarget, NATS_HEADERS, type NatsTargetOptions } from './connectors/nats/target.js';
export { exportNow, type ExportNowOptions } from './links/export-now.js';
export type { ConflictPolicy, ConflictCase, ConflictResolver, SideWins, LastWriterWins, FieldMerge } from './links/policies.js';
export type { WriteBackSpec, WriteBackValue } from './links/options.js';
