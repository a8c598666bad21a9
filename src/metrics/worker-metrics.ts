import type { Logger } from 'pino';
import type { StreamRegistry } from '../config/load-config.js';
import type { StateDb } from '../state/db.js';
import { FerryMetrics, type RunMetrics } from './ferry-metrics.js';
import { startMetricsServer, type MetricsListen } from './server.js';

/** A worker's metrics: the recorder its activities report to, and the HTTP endpoint serving them. */
export interface WorkerMetrics {
  recorder: RunMetrics;
  url: string;
  close(): Promise<void>;
}

/**
 * Creates the worker's metrics and starts serving them on `listen`. When the
 * port cannot be had (e.g. a second worker on the same machine), warns and
 * returns undefined: the worker then runs without metrics rather than not at all.
 */
export async function startWorkerMetrics(deps: { db: StateDb; streams: StreamRegistry; logger: Logger; listen: MetricsListen }): Promise<WorkerMetrics | undefined> {
  const metrics = new FerryMetrics({
    db: deps.db,
    streams: deps.streams.all().map((s) => ({ name: s.name, lag: (checkpoint, now) => s.source.lag(checkpoint, now) })),
    logger: deps.logger,
  });
  try {
    const server = await startMetricsServer(metrics, deps.listen);
    deps.logger.info({ url: server.url }, `metrics at ${server.url}`);
    return { recorder: metrics, url: server.url, close: () => server.close() };
  } catch (err) {
    deps.logger.warn({ err, port: deps.listen.port }, 'metrics not served (set FERRY_METRICS_PORT to a free port, or off)');
    return undefined;
  }
}
