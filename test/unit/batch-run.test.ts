// The unit layer (npm run test:unit): the run skeleton of src/workflows/batch-run.ts
// (prepare-ahead, lost batches, cancellation between batches, continue-as-new) with
// syncStream and replayDeadLetters on Temporal's test environment and mocked
// activities: no database, no connector, seconds instead of minutes.
//
// The time-skipping test server is a download this machine cannot make; the
// skeleton waits on no timer, so the local dev server (the Temporal CLI that
// scripts/ensure-temporal.sh finds) serves as well. TEMPORAL_ADDRESS: use a
// running server instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { BatchNotHeldError } from '../../src/activities/held-batches.js';
import type { FerryActivities } from '../../src/activities/index.js';
import type { StreamPlan } from '../../src/config/define-stream.js';
import type { RunCounts } from '../../src/core/types.js';
import type { FinishRunInput, PrepareBatchInput, PreparedBatch, RunSummary, UpsertBatchInput, UpsertBatchOutput } from '../../src/workflows/contracts.js';
import type { PrepareReplayBatchInput, PreparedReplayBatch } from '../../src/workflows/replay-contracts.js';
import type { replayDeadLetters } from '../../src/workflows/replay-dead-letters.js';
import type { syncStream } from '../../src/workflows/sync-stream.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROWS_PER_BATCH = 10;

function plan(stream: string, overrides: Partial<StreamPlan> = {}): StreamPlan {
  return {
    stream,
    incremental: true,
    batchSize: ROWS_PER_BATCH,
    deletes: { mode: 'none', maxDeleteFraction: 0.5 },
    retry: { maximumAttempts: 2, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' },
    continueAsNewEvery: 100,
    timeouts: { activity: '30s', heartbeat: '10s' },
    ...overrides,
  };
}

/** A batch id without its run id: "1.1" (batch 1, first attempt), "replay.0". */
const local = (batchId: string) => batchId.slice(batchId.indexOf(':') + 1);

/** A promise and its resolve: an activity waits on it until the test lets it go. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * A source of `batches` batches and the ferry activities around it, all in
 * memory: what each activity was asked, in order, so a test can check the
 * workflow's choices. Holders are task queues served by this test's workers.
 */
class MockRun {
  readonly events: string[] = [];
  readonly upserts: UpsertBatchInput[] = [];
  readonly prepares: PrepareBatchInput[] = [];
  finished: FinishRunInput | undefined;
  /** the holder prepareBatch names, per call (default: the live holder) */
  holderFor: (call: number) => string = () => this.holders[0];
  /** upsertBatch waits for this gate on the given batch number */
  upsertGate = new Map<number, Promise<void>>();
  /** upsertBatch of these batches ("<batchNo>.<attempt>", the batch id after the run id) says it does not hold them */
  notHeld = new Set<string>();
  /** batches (as above) whose commit a "dead" worker made before the test's workers heard of it */
  committedBefore = new Map<string, UpsertBatchOutput>();

  constructor(
    readonly plan: StreamPlan,
    readonly batches: number,
    readonly holders: [string, ...string[]],
  ) {}

  shared(): Partial<FerryActivities> {
    return {
      beginRun: async (input) => {
        this.events.push('beginRun');
        return { plan: { ...this.plan, stream: input.stream }, mode: 'incremental', cursor: null, searchAttributes: false };
      },
      prepareBatch: async (input): Promise<PreparedBatch | { committed: UpsertBatchOutput }> => {
        this.prepares.push(input);
        this.events.push(`prepare ${input.batchNo}${input.lost ? ` again (${input.lost.batchId} lost)` : ''}`);
        if (input.lost) {
          const committed = this.committedBefore.get(local(input.lost.batchId));
          if (committed) return { committed };
        }
        const at = Number((input.cursor as { n?: number } | null)?.n ?? 0);
        const holder = this.holderFor(this.prepares.length);
        return {
          batchId: `${input.runId}:${input.batchNo}.1${input.lost ? `r${input.lost.refetch}` : ''}`,
          holder,
          count: ROWS_PER_BATCH,
          superseded: 0,
          failed: 1,
          next: { n: at + 1 },
          done: at + 1 >= this.batches,
        };
      },
      finishRun: async (input) => {
        this.finished = input;
        this.events.push(`finishRun ${input.status}`);
        return { searchAttributes: false };
      },
      prepareReplayBatch: async (input: PrepareReplayBatchInput): Promise<PreparedReplayBatch> => {
        this.events.push(`prepareReplay ${input.batchNo}`);
        const after = Number(input.afterId);
        return {
          batchId: `${input.runId}:replay.${input.batchNo}`,
          holder: this.holders[0],
          count: ROWS_PER_BATCH,
          // the second page holds only unreplayable dead letters: nothing to write
          staged: input.batchNo === 1 ? 0 : ROWS_PER_BATCH,
          unreplayable: input.batchNo === 1 ? ROWS_PER_BATCH : 0,
          failed: input.batchNo === 1 ? ROWS_PER_BATCH : 0,
          lastId: String(after + ROWS_PER_BATCH),
          done: after + ROWS_PER_BATCH >= this.batches * ROWS_PER_BATCH,
        };
      },
      countReplayLeft: async () => ({ remaining: ROWS_PER_BATCH, failedAgain: ROWS_PER_BATCH }),
    };
  }

  holder(): Partial<FerryActivities> {
    return {
      upsertBatch: async (input) => {
        const batchNo = Number(local(input.batchId).split('.')[0]);
        this.events.push(`upsert ${local(input.batchId)} start`);
        if (this.notHeld.has(local(input.batchId))) {
          throw new BatchNotHeldError(input.batchId, 'this test worker');
        }
        await this.upsertGate.get(batchNo);
        this.upserts.push(input);
        this.events.push(`upsert ${local(input.batchId)} end`);
        return { created: ROWS_PER_BATCH - 1, updated: 0, skipped: 0, failed: 0 };
      },
    };
  }
}

const TASK_QUEUE = `unit-${randomUUID().slice(0, 8)}`;
const HOLDER = `${TASK_QUEUE}/held/a`;
/** The mock of each stream, and of each run (finishRun knows only its run id). */
const mocks = new Map<string, MockRun>();
const runs = new Map<string, MockRun>();
const mockOf = (stream: string): MockRun => {
  const mock = mocks.get(stream);
  if (!mock) throw new Error(`no mock for stream ${stream}`);
  return mock;
};

function dispatchShared(): Partial<FerryActivities> {
  const call = <K extends keyof FerryActivities>(name: K, mock: MockRun) => mock.shared()[name] as (...args: unknown[]) => Promise<unknown>;
  return {
    beginRun: async (input) => {
      runs.set(input.runId, mockOf(input.stream));
      return (await call('beginRun', mockOf(input.stream))(input)) as Awaited<ReturnType<FerryActivities['beginRun']>>;
    },
    beginReplay: async (input) => {
      runs.set(input.runId, mockOf(input.stream));
      return (await call('beginReplay', mockOf(input.stream))(input)) as Awaited<ReturnType<FerryActivities['beginReplay']>>;
    },
    prepareBatch: async (input) => (await call('prepareBatch', mockOf(input.stream))(input)) as Awaited<ReturnType<FerryActivities['prepareBatch']>>,
    prepareReplayBatch: async (input) => (await call('prepareReplayBatch', mockOf(input.stream))(input)) as Awaited<ReturnType<FerryActivities['prepareReplayBatch']>>,
    countReplayLeft: async (input) => (await call('countReplayLeft', mockOf(input.stream))(input)) as Awaited<ReturnType<FerryActivities['countReplayLeft']>>,
    finishRun: async (input) => {
      const mock = runs.get(input.runId);
      if (!mock) throw new Error(`no mock for run ${input.runId}`);
      return (await call('finishRun', mock)(input)) as Awaited<ReturnType<FerryActivities['finishRun']>>;
    },
  };
}

function dispatchHolder(): Partial<FerryActivities> {
  return { upsertBatch: async (input) => (await (mockOf(input.stream).holder().upsertBatch as FerryActivities['upsertBatch'])(input)) };
}

describe('the run skeleton (batch-run.ts) with mocked activities', () => {
  let env: TestWorkflowEnvironment;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];

  before(async () => {
    const prebuilt = process.env.FERRY_WORKFLOW_BUNDLE;
    // the server starts while the workflow code is bundled
    const bundling = prebuilt
      ? Promise.resolve({ code: readFileSync(prebuilt, 'utf8') })
      : bundleWorkflowCode({ workflowsPath: path.join(root, 'src', 'workflows', 'index.ts'), logger: undefined });
    const address = process.env.TEMPORAL_ADDRESS;
    if (address) {
      env = await TestWorkflowEnvironment.createFromExistingServer({ address });
    } else {
      const bin = execFileSync('bash', [path.join(root, 'scripts', 'ensure-temporal.sh')], { encoding: 'utf8' }).trim();
      env = await TestWorkflowEnvironment.createLocal(bin ? { server: { executable: { type: 'existing-path', path: bin } } } : {});
    }
    const workflowBundle = await bundling;
    // One worker on the shared queue and one on the holder queue for every test: each activity
    // is answered by the mock of its stream (or of its run).
    const shared = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle, activities: dispatchShared() });
    const holder = await Worker.create({ connection: env.nativeConnection, taskQueue: HOLDER, activities: dispatchHolder() });
    workers = [shared, holder];
    running = workers.map((w) => w.run());
  });

  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.teardown();
  });

  /** Runs `body` with `mock` answering the activities of its stream (and of the runs it begins). */
  async function withWorkers<T>(mock: MockRun, _taskQueue: string, body: () => Promise<T>): Promise<T> {
    mocks.set(mock.plan.stream, mock);
    return body();
  }

  const names = (prefix: string) => ({ taskQueue: TASK_QUEUE, holder: HOLDER, stream: `unit.${prefix}.${randomUUID().slice(0, 8)}` });
  const expectCounts = (batches: number): RunCounts => ({ created: batches * (ROWS_PER_BATCH - 1), updated: 0, skipped: 0, deleted: 0, failed: batches });

  it('prepares the next batch while one is written, writes in order, each batch on its holder with its checkpoint', async () => {
    const { taskQueue, holder, stream } = names('ahead');
    const mock = new MockRun(plan(stream), 3, [holder]);
    // batch 0's write waits until batch 1 has been prepared: only prepare-ahead lets the run go on
    const release = gate();
    mock.upsertGate.set(0, release.opened);
    const summary = await withWorkers(mock, taskQueue, async () => {
      const handle = await env.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue, args: [{ stream }] });
      for (let i = 0; i < 200 && mock.prepares.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      release.open();
      return handle.result();
    });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, expectCounts(3));
    assert.equal(summary.batches, 3);
    assert.ok(mock.events.indexOf('prepare 1') < mock.events.indexOf('upsert 0.1 end'), `batch 1 prepared while batch 0 was written: ${mock.events.join(' | ')}`);
    assert.deepEqual(mock.upserts.map((u) => [local(u.batchId), u.checkpoint]), [['0.1', { n: 1 }], ['1.1', { n: 2 }], ['2.1', { n: 3 }]]);
    assert.deepEqual(mock.prepares.map((p) => p.cursor), [null, { n: 1 }, { n: 2 }], 'each batch prepared once, from where the last one ended');
    assert.equal(mock.finished?.status, 'succeeded');
  });

  it('re-prepares a batch whose worker no longer holds it, from the same cursor, and takes the recorded result of one that had committed', async () => {
    const { taskQueue, holder, stream } = names('lost');
    const mock = new MockRun(plan(stream), 3, [holder]);
    // batch 1 is lost (evicted) before its commit: prepared again from cursor {n:1};
    // batch 2 is lost after its commit: its recorded result stands, nothing is fetched.
    mock.notHeld.add('1.1');
    mock.notHeld.add('2.1');
    mock.committedBefore.set('2.1', { created: 2, updated: 3, skipped: 4, failed: 0 });
    const summary = await withWorkers(mock, taskQueue, () =>
      env.client.workflow.execute<typeof syncStream>('syncStream', { workflowId: stream, taskQueue, args: [{ stream }] }),
    );
    assert.equal(summary.status, 'succeeded');
    const again = mock.prepares.filter((p) => p.lost);
    assert.deepEqual(again.map((p) => [p.batchNo, p.cursor, local(p.lost?.batchId ?? '')]), [[1, { n: 1 }, '1.1'], [2, { n: 2 }, '2.1']]);
    assert.deepEqual(mock.upserts.map((u) => local(u.batchId)), ['0.1', '1.1r1'], 'batch 1 written as re-read; batch 2 not written again');
    // batch 2 counts its recorded result plus the records that failed before the target
    assert.deepEqual({ ...summary.counts }, { created: 2 * (ROWS_PER_BATCH - 1) + 2, updated: 3, skipped: 4, deleted: 0, failed: 3 });
    assert.deepEqual(mock.upserts.map((u) => u.checkpoint), [{ n: 1 }, { n: 2 }]);
  });

  it('re-prepares on the shared queue when the holding worker is gone (nobody picks the upsert up)', async () => {
    const { taskQueue, holder, stream } = names('dead');
    const mock = new MockRun(plan(stream), 2, [holder, `${holder}-gone`]);
    // the first preparation names a worker that died since: its queue has no poller
    mock.holderFor = (call) => (call === 1 ? `${holder}-gone` : holder);
    const t0 = Date.now();
    const summary = await withWorkers(mock, taskQueue, async () => {
      const handle = await env.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue, args: [{ stream }] });
      return handle.result();
    });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, expectCounts(2));
    assert.deepEqual(mock.prepares.filter((p) => p.lost).map((p) => [p.batchNo, p.cursor]), [[0, null]]);
    assert.ok(Date.now() - t0 < 20_000, 'the lost batch costs the pickup timeout (5 s), not minutes');
  });

  it('honours a cancel between batches: the batch being written finishes, nothing after it, the run row says cancelled', async () => {
    const { taskQueue, holder, stream } = names('cancel');
    const mock = new MockRun(plan(stream), 5, [holder]);
    const release = gate();
    mock.upsertGate.set(1, release.opened);
    const err = await withWorkers(mock, taskQueue, async () => {
      const handle = await env.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue, args: [{ stream }] });
      for (let i = 0; i < 400 && !mock.events.includes('upsert 1.1 start'); i++) await new Promise((r) => setTimeout(r, 25));
      await handle.cancel();
      await new Promise((r) => setTimeout(r, 300));
      release.open();
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    assert.ok(err instanceof WorkflowFailedError, 'the run ends cancelled');
    assert.deepEqual(mock.upserts.map((u) => local(u.batchId)), ['0.1', '1.1'], 'batch 1 was written whole, no batch after it');
    assert.equal(mock.finished?.status, 'cancelled');
    assert.equal(mock.finished?.batches, 2);
    assert.match(mock.finished?.message ?? '', /checkpoint is at the last committed batch/);
  });

  it('continues as new every few batches, carrying the batch prepared ahead and the totals', async () => {
    const { taskQueue, holder, stream } = names('can');
    const mock = new MockRun(plan(stream, { continueAsNewEvery: 2 }), 5, [holder]);
    const { summary, executions } = await withWorkers(mock, taskQueue, async () => {
      const handle = await env.client.workflow.start<typeof syncStream>('syncStream', { workflowId: stream, taskQueue, args: [{ stream }] });
      const summary: RunSummary = await handle.result();
      let n = 0;
      let runId: string | undefined = (await handle.describe()).runId;
      while (runId) {
        n += 1;
        const history = await env.client.workflow.getHandle(stream, runId).fetchHistory();
        runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
      }
      return { summary, executions: n };
    });
    assert.equal(executions, 3, '5 batches, 2 per execution');
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, expectCounts(5));
    assert.equal(summary.batches, 5);
    assert.deepEqual(mock.prepares.map((p) => p.batchNo), [0, 1, 2, 3, 4], 'each batch prepared once: the one prepared ahead is carried, not prepared again');
    assert.deepEqual(mock.upserts.map((u) => local(u.batchId)), ['0.1', '1.1', '2.1', '3.1', '4.1']);
    assert.equal(mock.events.filter((e) => e === 'beginRun').length, 1);
  });

  it('replays dead letters on the same path: a page with nothing to write is not written, the tally closes the run', async () => {
    const { taskQueue, holder, stream } = names('replay');
    const mock = new MockRun(plan(stream, { continueAsNewEvery: 2 }), 3, [holder]);
    const shared = mock.shared();
    shared.beginReplay = async () => ({ plan: plan(stream, { continueAsNewEvery: 2 }), maxId: '30', selected: 30, searchAttributes: false });
    mock.shared = () => shared;
    const summary = await withWorkers(mock, taskQueue, async () =>
      env.client.workflow.execute<typeof replayDeadLetters>('replayDeadLetters', { workflowId: stream, taskQueue, args: [{ stream }] }),
    );
    assert.deepEqual(mock.upserts.map((u) => [local(u.batchId), u.mode, u.checkpoint]), [['replay.0', 'replay', null], ['replay.2', 'replay', null]]);
    assert.equal(summary.status, 'warning');
    assert.equal(summary.batches, 3);
    assert.deepEqual(summary.deadLetters, { selected: 30, replayed: 20, remaining: 10 });
  });
});
