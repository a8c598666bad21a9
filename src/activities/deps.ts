import type { Logger } from 'pino';
import type { StreamRegistry } from '../config/load-config.js';
import type { StateDb } from '../state/db.js';

/** What activities are given by the worker (dependency injection, not globals). */
export interface ActivityDeps {
  db: StateDb;
  streams: StreamRegistry;
  logger: Logger;
}
