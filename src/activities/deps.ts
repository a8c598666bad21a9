import type { Logger } from 'pino';
import type { StreamRegistry } from '../config/load-config.js';
import type { ExchangeRuntime } from '../exchange/runtime.js';
import type { RunMetrics } from '../metrics/ferry-metrics.js';
import type { StateDb } from '../state/db.js';
import type { HeldBatches } from './held-batches.js';

/** What activities are given by the worker (dependency injection, not globals). */
export interface ActivityDeps {
  db: StateDb;
  streams: StreamRegistry;
  /** the batches this worker prepared and holds until their upsert, and the task queue that reaches them */
  held: HeldBatches;
  logger: Logger;
  /** counts finished runs for /metrics; absent when the worker serves no metrics */
  metrics?: RunMetrics | undefined;
  /** ferry's search attributes exist in the namespace: runs may be tagged (workflows/search-attributes.ts) */
  searchAttributes?: boolean | undefined;
  /** the exchange plan and node databases, when the config has an `exchange` entry */
  exchange?: ExchangeRuntime | undefined;
}
