import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { StreamRegistry } from '../../src/config/load-config.js';
import type { PipelineDefinition } from '../../src/config/define-pipeline.js';
import type { StreamDefinition } from '../../src/config/define-stream.js';
import { connectClient, type TemporalSettings } from '../../src/temporal.js';
import { createFerryWorker, type FerryWorker } from '../../src/worker.js';
import type { RunSummary, SyncStreamInput } from '../../src/workflows/contracts.js';
import type { syncStream } from '../../src/workflows/sync-stream.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The bundle scripts/test.sh builds once; without it each worker bundles on its own (slower). */
export function workflowBundlePath(): string | undefined {
  return process.env.FERRY_WORKFLOW_BUNDLE ?? undefined;
}

export function testSettings(taskQueue: string): TemporalSettings {
  return { address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', namespace: process.env.TEMPORAL_NAMESPACE ?? 'default', taskQueue };
}

/**
 * One test file's world: its own database (state store + source and target
 * tables), its own task queue, a Temporal client, and an in-process worker
 * for the streams it defines.
 */
export interface Harness {
  db: TestDatabase;
  client: Client;
  /** a stream name unique to this harness (stream names are workflow ids on a shared server) */
  name(base: string): string;
  settings: TemporalSettings;
  /** starts a worker for these streams (replacing the previous one) */
  startWorker(streams: readonly StreamDefinition[], pipelines?: readonly PipelineDefinition[]): Promise<FerryWorker>;
  stopWorker(): Promise<void>;
  /** starts a run and waits for its summary */
  run(input: SyncStreamInput): Promise<RunSummary>;
  start(input: SyncStreamInput): ReturnType<Client['workflow']['start']>;
  close(): Promise<void>;
}

export async function createHarness(label: string): Promise<Harness> {
  const db = await createTestDatabase(label);
  const settings = testSettings(`ferry-test-${label}-${randomBytes(3).toString('hex')}`);
  const temporal = await connectClient(settings);
  let current: { worker: FerryWorker; running: Promise<void> } | undefined;

  const suffix = randomBytes(3).toString('hex');
  const harness: Harness = {
    db,
    name: (base) => `${base}-${suffix}`,
    client: temporal.client,
    settings,
    async startWorker(streams, pipelines = []) {
      await harness.stopWorker();
      const worker = await createFerryWorker({
        settings,
        streams: new StreamRegistry(streams, pipelines),
        databaseUrl: db.url,
        ...(workflowBundlePath() ? { workflowBundlePath: workflowBundlePath() } : {}),
      });
      current = { worker, running: worker.run() };
      return worker;
    },
    async stopWorker() {
      if (!current) return;
      current.worker.shutdown();
      await current.running;
      current = undefined;
    },
    start(input) {
      return temporal.client.workflow.start<typeof syncStream>('syncStream', { workflowId: input.stream, taskQueue: settings.taskQueue, args: [input] });
    },
    async run(input) {
      const handle = await temporal.client.workflow.start<typeof syncStream>('syncStream', {
        workflowId: input.stream,
        taskQueue: settings.taskQueue,
        args: [input],
      });
      return handle.result();
    },
    async close() {
      await harness.stopWorker();
      await temporal.close();
      await db.drop();
    },
  };
  return harness;
}

export const fixturePath = (...parts: string[]) => path.join(repoRoot, 'test', 'fixtures', ...parts);
