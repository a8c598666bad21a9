import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { configPath, loadConfig, type StreamRegistry } from './config/load-config.js';
import { loadExchange, type ExchangeRuntime } from './exchange/runtime.js';
import { metricsSettings, serveSdkMetrics } from './metrics/settings.js';
import type { MetricsListen } from './metrics/server.js';
import { startWorkerMetrics } from './metrics/worker-metrics.js';
import { createStateDb, type StateDb } from './state/db.js';
import { migrateToLatest } from './state/migrate.js';
import { logger } from './logger.js';
import { temporalSettings, type TemporalSettings } from './temporal.js';

export interface FerryWorker {
  worker: Worker;
  streams: StreamRegistry;
  db: StateDb;
  /** the /metrics URL when metrics are served */
  metricsUrl: string | undefined;
  /** resolves when the worker has stopped and its connections are closed */
  run(): Promise<void>;
  shutdown(): void;
}

export interface FerryWorkerOptions {
  settings?: TemporalSettings;
  /** a prebuilt bundle (bundleWorkflowCode) instead of bundling at start-up */
  workflowBundlePath?: string;
  /** config file; default FERRY_CONFIG or ./ferry.config.ts */
  configFile?: string;
  /** streams already loaded (tests, embedding); overrides configFile */
  streams?: StreamRegistry;
  /** state store; default DATABASE_URL */
  databaseUrl?: string;
  /** serve ferry's Prometheus metrics there (port 0: any free port); default: none (main() passes FERRY_METRICS_PORT) */
  metrics?: MetricsListen | false;
  /** exchange plan and nodes (tests, embedding); default: the config file's `exchange` entry, unless `streams` is given */
  exchange?: ExchangeRuntime;
}

/** Loads the config, migrates the state store, and creates a worker for the stream workflows. */
export async function createFerryWorker(options: FerryWorkerOptions = {}): Promise<FerryWorker> {
  const settings = options.settings ?? temporalSettings();
  const streams = options.streams ?? (await loadConfig(options.configFile));
  const exchange = options.exchange ?? (options.streams ? undefined : await loadExchange(options.configFile ?? configPath()));
  const db = createStateDb(options.databaseUrl);
  const applied = await migrateToLatest(db);
  if (applied.applied.length) logger.info({ migrations: applied.applied }, 'state store migrated');

  const bundlePath = options.workflowBundlePath ?? process.env.FERRY_WORKFLOW_BUNDLE;
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: fileURLToPath(new URL('./workflows/index.ts', import.meta.url)) };

  const metrics = options.metrics ? await startWorkerMetrics({ db, streams, logger, listen: options.metrics }) : undefined;
  const closeMetricsAndThrow = async (err: unknown): Promise<never> => {
    await metrics?.close();
    throw err;
  };
  const connection = await NativeConnection.connect({ address: settings.address }).catch(closeMetricsAndThrow);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...workflows,
    activities: createActivities({ db, streams, logger, metrics: metrics?.recorder, exchange }),
    // Let a running batch finish on shutdown instead of cancelling it at once (the SDK default is 0).
    shutdownGraceTime: '30s',
    maxConcurrentActivityTaskExecutions: 20,
  }).catch(closeMetricsAndThrow);

  return {
    worker,
    streams,
    db,
    metricsUrl: metrics?.url,
    shutdown: () => worker.shutdown(),
    async run() {
      try {
        await worker.run();
      } finally {
        await metrics?.close();
        await Promise.allSettled([streams.close(), db.destroy(), connection.close(), exchange?.close()]);
      }
    },
  };
}

async function main(): Promise<void> {
  const metricsEnv = metricsSettings();
  // before any connection: the SDK's runtime, and so its metrics exporter, is process-wide
  if (metricsEnv.sdk) serveSdkMetrics(metricsEnv.sdk, logger);
  const ferry = await createFerryWorker({ metrics: metricsEnv.ferry });
  const settings = temporalSettings();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down: finishing running activities');
      ferry.shutdown();
    });
  }
  logger.info({ ...settings, streams: ferry.streams.names() }, 'ferry worker running');
  await ferry.run();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    logger.error({ err }, 'worker failed');
    process.exitCode = 1;
  });
}
