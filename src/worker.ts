import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { FerrySdkLogger } from './sdk-logger.js';
import { boundHeapGrowth } from './heap-growth.js';
import { HeldBatches } from './activities/held-batches.js';
import { createActivities } from './activities/index.js';
import { configPath, loadConfig, type StreamRegistry } from './config/load-config.js';
import { loadExchange, type ExchangeRuntime } from './exchange/runtime.js';
import { metricsSettings, serveSdkMetrics } from './metrics/settings.js';
import type { MetricsListen } from './metrics/server.js';
import { startWorkerMetrics } from './metrics/worker-metrics.js';
import { ensureSearchAttributes } from './setup/search-attributes.js';
import { createStateDb, databaseUrl, StateStoreUnavailableError, type StateDb } from './state/db.js';
import { migrateToLatest } from './state/migrate.js';
import { ConfigurationError, FerryError } from './core/errors.js';
import { logger } from './logger.js';
import { connectClient, connectionOptions, describeSettings, temporalSettings, TemporalUnreachableError, type TemporalSettings } from './temporal.js';

export interface FerryWorker {
  /** the worker on the shared task queue (workflows and every activity) */
  worker: Worker;
  /** the worker on this process's own task queue: the upserts of the batches it holds */
  holder: Worker;
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
  const url = options.databaseUrl ?? databaseUrl();
  const db = createStateDb(url);
  let metrics: Awaited<ReturnType<typeof startWorkerMetrics>> | undefined;
  /** On a failed start, nothing may stay open: the process must be able to exit at once. */
  const closeAndThrow = async (err: unknown): Promise<never> => {
    await Promise.allSettled([metrics?.close(), db.destroy(), options.streams ? undefined : streams.close()]);
    throw err;
  };
  const applied = await migrateToLatest(db).catch((err: unknown) => closeAndThrow(new StateStoreUnavailableError(url, err)));
  if (applied.applied.length) logger.info({ migrations: applied.applied }, 'state store migrated');

  const bundlePath = options.workflowBundlePath ?? process.env.FERRY_WORKFLOW_BUNDLE;
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : // index.ts under tsx, index.js when compiled
      { workflowsPath: fileURLToPath(new URL(`./workflows/index${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url)) };

  const searchAttributes = await searchAttributesReady(settings).catch(closeAndThrow);
  metrics = options.metrics ? await startWorkerMetrics({ db, streams, logger, listen: options.metrics }).catch(closeAndThrow) : undefined;
  const connection = await NativeConnection.connect(connectionOptions(settings)).catch((err: unknown) => closeAndThrow(new TemporalUnreachableError(settings, err)));
  const held = new HeldBatches(holderQueue(settings.taskQueue), heldBatchLimit());
  const activities = createActivities({ db, streams, held, logger, metrics: metrics?.recorder, searchAttributes, exchange });
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...workflows,
    activities,
    // Let a running batch finish on shutdown instead of cancelling it at once (the SDK default is 0).
    shutdownGraceTime: '30s',
    maxConcurrentActivityTaskExecutions: 20,
    // A killed worker's workflow tasks go back to the shared queue after this (SDK default 10 s).
    stickyQueueScheduleToStartTimeout: '3s',
  }).catch(async (err: unknown) => {
    await connection.close();
    return closeAndThrow(err);
  });
  // The worker-specific task queue (Temporal's pattern for worker-local files): the upsert of a
  // batch this process prepared is routed here, where the batch is in memory.
  const holder = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: held.queue,
    activities: { upsertBatch: activities.upsertBatch },
    shutdownGraceTime: '30s',
    maxConcurrentActivityTaskExecutions: 20,
  }).catch(async (err: unknown) => {
    await connection.close();
    return closeAndThrow(err);
  });
  const stopAll = () => {
    for (const w of [worker, holder]) if (w.getState() === 'RUNNING') w.shutdown();
  };

  return {
    worker,
    holder,
    streams,
    db,
    metricsUrl: metrics?.url,
    shutdown: stopAll,
    async run() {
      try {
        // One stops, both stop: a process polling only one of its queues would strand batches or runs.
        const stopOthers = (err: unknown) => {
          stopAll();
          throw err;
        };
        await Promise.all([worker.run().catch(stopOthers), holder.run().catch(stopOthers)]);
      } finally {
        await metrics?.close();
        await Promise.allSettled([streams.close(), db.destroy(), connection.close(), exchange?.close()]);
      }
    },
  };
}

/** A task queue no other process polls: the shared queue's name, the host, the pid and a random part. */
function holderQueue(shared: string): string {
  return `${shared}/held/${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * How many prepared batches a worker holds at most (FERRY_HELD_BATCHES, default 16: a partitioned load's
 * four ranges at once hold eight, with room for other runs); beyond, the oldest is re-fetched when its turn comes.
 */
function heldBatchLimit(): number {
  const raw = process.env.FERRY_HELD_BATCHES;
  const n = raw ? Number(raw) : 16;
  if (!Number.isInteger(n) || n < 1) throw new ConfigurationError(`FERRY_HELD_BATCHES must be a positive whole number (got "${raw}")`);
  return n;
}

/**
 * Whether runs can be tagged with ferry's search attributes: registers the
 * missing ones when the connection may (dev server, a self-hosted cluster);
 * otherwise warns once and the runs go untagged (run `ferry setup`, or on
 * Temporal Cloud add them with tcld or the Cloud UI).
 */
async function searchAttributesReady(settings: TemporalSettings): Promise<boolean> {
  const { client, close } = await connectClient(settings);
  try {
    const setup = await ensureSearchAttributes(client, settings.namespace, { register: true });
    if (setup.added.length) logger.info({ added: setup.added }, 'search attributes registered');
    if (setup.missing.length) {
      logger.warn(`runs are not tagged for search: search attributes ${setup.missing.join(', ')} are missing in namespace "${settings.namespace}"${setup.error ? ` (${setup.error})` : ''}; run ferry setup`);
    }
    return setup.missing.length === 0;
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  boundHeapGrowth();
  const metricsEnv = metricsSettings();
  // before any connection: the SDK's runtime, and so its metrics exporter, is process-wide
  if (metricsEnv.sdk) serveSdkMetrics(metricsEnv.sdk, logger);
  else Runtime.install({ logger: new FerrySdkLogger() });
  const ferry = await createFerryWorker({ metrics: metricsEnv.ferry });
  const settings = temporalSettings();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down: finishing running activities');
      ferry.shutdown();
    });
  }
  logger.info({ ...describeSettings(settings), streams: ferry.streams.names() }, 'ferry worker running');
  await ferry.run();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // ferry's own errors say what to do in one line; anything else is a bug: keep its stack.
    if (err instanceof FerryError) logger.error(`worker failed: ${err.message}`);
    else logger.error({ err }, 'worker failed');
    process.exitCode = 1;
  });
}
