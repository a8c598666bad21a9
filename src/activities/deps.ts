import type { Logger } from 'pino';
import type { StreamRegistry } from '../config/load-config.js';
import type { RunMetrics } from '../metrics/ferry-metrics.js';
import type { StateDb } from '../state/db.js';

/** What activities are given by the worker (dependency injection, not globals). */
export interface ActivityDeps {
  db: StateDb;
  streams: StreamRegistry;
  logger: Logger;
  /** counts finished runs for /metrics; absent when the worker serves no metrics */
  metrics?: RunMetrics | undefined;
  /** ferry's search attributes exist in the namespace: runs may be tagged (workflows/search-attributes.ts) */
  searchAttributes?: boolean | undefined;
}
