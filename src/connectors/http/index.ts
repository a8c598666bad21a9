export { httpSource, type HttpSourceOptions, type HttpResponseHook, type HttpResponseView } from './source.js';
export { httpTarget, type HttpTargetOptions, type HttpBatchEndpoint } from './target.js';
export type { RecordRetryOptions } from './retry.js';
export type { HttpConnection } from './request.js';
export type { SecretRef } from './secrets.js';
export type { Pagination, PageRequest } from './paginators.js';
export type { HttpIncremental } from './incremental.js';
