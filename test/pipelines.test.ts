// Pipelines: ordered steps of streams, parallel groups, the stop and continue
// policies, the stream lock inside a pipeline, one pipeline run row, and
// `ferry pipeline run | list`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { definePipeline, type PipelineDefinition, type PipelineStep } from '../src/config/define-pipeline.js';
import type { StreamDefinition } from '../src/config/define-stream.js';
import { StreamRegistry } from '../src/config/load-config.js';
import { pipelineWorkflowId } from '../src/workflows/ids.js';
import type { PipelineSummary } from '../src/workflows/pipeline-contracts.js';
import { createCustomerTables, customerSource, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { gatedSource, type GatedSource } from './support/gated-source.js';
import { createHarness, type Harness } from './support/harness.js';
import { ferry, pipelineRows, runRows, settledExecutionCount, startPipeline, type SchedulingFixture } from './support/scheduling.js';

type Tables = { source: string; target: string };

describe('pipelines', () => {
  let h: Harness;
  const streams: Record<string, { name: string; tables: Tables; source: GatedSource }> = {};
  const pipelines: Record<string, { name: string; steps: PipelineStep[] }> = {};
  let fixture: SchedulingFixture;

  const s = (key: string): string => (streams[key] as { name: string }).name;
  const p = (key: string): string => (pipelines[key] as { name: string }).name;

  before(async () => {
    h = await createHarness('pipelines');
    const definitions: StreamDefinition[] = [];
    for (const key of ['o1', 'o2', 'o3', 'stop1', 'stopBroken', 'stop3', 'contBroken', 'cont2', 'g1', 'g2', 'g3', 'held', 'heldNext', 'cli1', 'cli2']) {
      const tables = await createCustomerTables(h.db.pool, `_${key.toLowerCase()}`);
      await seedCustomers(h.db.pool, tables.source, 20);
      // a "broken" stream writes to a table that does not exist: its run fails at its checks
      const target = key.endsWith('Broken') ? { ...tables, target: `missing_${key.toLowerCase()}` } : tables;
      const name = h.name(`pipe.${key}`);
      const source = gatedSource(customerSource(h.db.url, tables.source));
      streams[key] = { name, tables: target, source };
      definitions.push(customerStream(name, h.db.url, target, { source }));
    }
    const define = (key: string, steps: PipelineStep[]) => (pipelines[key] = { name: h.name(`pipeline.${key}`), steps });
    define('order', [s('o1'), s('o2'), s('o3')]);
    define('stop', [s('stop1'), s('stopBroken'), { name: 'after the broken one', streams: s('stop3') }]);
    define('continue', [{ name: 'may fail', streams: s('contBroken'), onFailure: 'continue' }, s('cont2')]);
    define('parallel', [{ name: 'both at once', streams: [s('g1'), s('g2')] }, s('g3')]);
    define('lock', [s('held'), s('heldNext')]);
    define('cli', [s('cli1'), s('cli2')]);
    const pipelineDefinitions: PipelineDefinition[] = Object.values(pipelines).map((x) => definePipeline(x));
    await h.startWorker(definitions, pipelineDefinitions);
    fixture = {
      url: h.db.url,
      streams: Object.values(streams).map((x) => ({ name: x.name, source: x.tables.source, target: x.tables.target })),
      pipelines: Object.values(pipelines),
    };
  });
  after(() => h.close());

  it('runs the steps in order, each stream once, and leaves one pipeline row naming each step run', async () => {
    const handle = await startPipeline(h, p('order'));
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.equal(summary.runId, handle.firstExecutionRunId, 'the pipeline run id is its Temporal run id');

    const rows = await Promise.all(['o1', 'o2', 'o3'].map((k) => runRows(h, s(k))));
    rows.forEach((r, i) => assert.equal(r.length, 1, `o${i + 1} ran once`));
    const [a, b, c] = rows.map((r) => r[0]!);
    assert.ok(a!.finished_at! <= b!.started_at, `o2 started (${b!.started_at.toISOString()}) after o1 finished (${a!.finished_at!.toISOString()})`);
    assert.ok(b!.finished_at! <= c!.started_at, 'o3 started after o2 finished');
    for (const k of ['o1', 'o2', 'o3']) assert.deepEqual(await targetRows(h.db.pool, streams[k]!.tables.target), await sourceRows(h.db.pool, streams[k]!.tables.source));

    const [row, ...more] = await pipelineRows(h, p('order'));
    assert.equal(more.length, 0, 'one pipeline row');
    assert.equal(row!.id, summary.runId);
    assert.equal(row!.status, 'succeeded');
    assert.equal(row!.trigger, 'manual');
    assert.ok(row!.finished_at);
    assert.deepEqual(
      row!.steps.map((st) => ({ step: st.step, status: st.status, streams: st.streams, runs: st.runs.map((r) => ({ stream: r.stream, status: r.status, runId: r.runId, created: r.counts?.created })) })),
      [a, b, c].map((run, i) => ({
        step: i + 1,
        status: 'succeeded',
        streams: [s(`o${i + 1}`)],
        runs: [{ stream: s(`o${i + 1}`), status: 'succeeded', runId: run!.id, created: 20 }],
      })),
    );
    for (const st of row!.steps) assert.ok(st.startedAt && st.finishedAt && st.startedAt <= st.finishedAt);
  });

  it('stops at a failed step: later steps do not run, and the row says which step failed and why', async () => {
    const handle = await startPipeline(h, p('stop'));
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'PipelineFailed');
      assert.match(err.cause.message, /step 2 .* failed/);
      return true;
    });
    assert.equal((await runRows(h, s('stop1'))).length, 1);
    const broken = await runRows(h, s('stopBroken'));
    assert.equal(broken.length, 1);
    assert.equal(broken[0]!.status, 'failed');
    assert.deepEqual(await runRows(h, s('stop3')), [], 'the step after the failed one did not run');

    const [row] = await pipelineRows(h, p('stop'));
    assert.equal(row!.status, 'failed');
    assert.match(row!.message ?? '', new RegExp(`step 2 \\(${s('stopBroken').replace(/[.]/g, '\\.')}\\) failed: .*failed; pipeline stopped, steps 3 not run`));
    assert.deepEqual(row!.steps.map((st) => st.status), ['succeeded', 'failed', 'not-run']);
    const failedRun = row!.steps[1]!.runs[0]!;
    assert.equal(failedRun.status, 'failed');
    assert.equal(failedRun.runId, broken[0]!.id, 'the failed stream run is named by its run row');
    assert.match(failedRun.error ?? '', /missing_stopbroken/, `names the missing table: ${failedRun.error}`);
    assert.deepEqual(row!.steps[2]!.runs, []);
    assert.equal(row!.steps[2]!.name, 'after the broken one');
  });

  it("goes on after a failed step whose policy is 'continue', and ends with status warning", async () => {
    const summary: PipelineSummary = await (await startPipeline(h, p('continue'))).result();
    assert.equal(summary.status, 'warning');
    assert.match(summary.message ?? '', /step 1 \(may fail\) failed/);
    assert.equal((await runRows(h, s('contBroken')))[0]!.status, 'failed');
    const next = await runRows(h, s('cont2'));
    assert.equal(next.length, 1, 'the next step ran');
    assert.equal(next[0]!.status, 'succeeded');
    const [row] = await pipelineRows(h, p('continue'));
    assert.equal(row!.status, 'warning');
    assert.deepEqual(row!.steps.map((st) => [st.status, st.onFailure]), [['failed', 'continue'], ['succeeded', 'stop']]);
  });

  it('runs the streams of a parallel group at the same time, and the next step after both', async () => {
    const g1 = streams.g1!.source.hold(0);
    const g2 = streams.g2!.source.hold(0);
    const handle = await startPipeline(h, p('parallel'));
    // both first fetches are in flight at once: the group really runs in parallel
    await Promise.all([g1.reached, g2.reached]);
    assert.deepEqual(await runRows(h, s('g3')), [], 'the next step waits for the group');
    g1.release();
    g2.release();
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded');

    const [a] = await runRows(h, s('g1'));
    const [b] = await runRows(h, s('g2'));
    const [c] = await runRows(h, s('g3'));
    assert.ok(a!.started_at < b!.finished_at! && b!.started_at < a!.finished_at!, 'the two runs overlap in time');
    assert.ok(c!.started_at >= a!.finished_at! && c!.started_at >= b!.finished_at!, 'step 2 began after both of step 1');
    const [row] = await pipelineRows(h, p('parallel'));
    assert.deepEqual(row!.steps[0]!.runs.map((r) => [r.stream, r.status, r.runId]).sort(), [[s('g1'), 'succeeded', a!.id], [s('g2'), 'succeeded', b!.id]].sort());
  });

  it('keeps the stream lock: a step whose stream already runs (started from the client) starts nothing and fails', async () => {
    const gate = streams.held!.source.hold(0);
    const manual = await h.start({ stream: s('held') });
    await gate.reached;
    try {
      const handle = await startPipeline(h, p('lock'));
      await assert.rejects(handle.result(), WorkflowFailedError);
      const [row] = await pipelineRows(h, p('lock'));
      assert.equal(row!.status, 'failed');
      const run = row!.steps[0]!.runs[0]!;
      assert.equal(run.status, 'already-running');
      assert.equal(run.workflowId, s('held'));
      assert.match(run.error ?? '', /already has a run in progress/);
      assert.deepEqual(row!.steps.map((st) => st.status), ['failed', 'not-run']);
      assert.equal((await runRows(h, s('held'))).length, 1, 'only the manual run has a row');
      assert.equal(await settledExecutionCount(h.client, 'syncStream', s('held'), 1), 1, 'one syncStream execution');
    } finally {
      gate.release();
    }
    assert.equal((await manual.result()).status, 'succeeded');
  });

  it('one run per pipeline: a second start while it runs is refused', async () => {
    const gate = streams.held!.source.hold(streams.held!.source.fetches);
    const first = await startPipeline(h, p('lock'));
    await gate.reached;
    try {
      await assert.rejects(startPipeline(h, p('lock')), WorkflowExecutionAlreadyStartedError);
      const refused = await ferry(h, fixture, ['pipeline', 'run', p('lock')]);
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(refused.stderr, new RegExp(`pipeline "${p('lock')}" is already running \\(workflow id "${pipelineWorkflowId(p('lock'))}", run ${first.firstExecutionRunId}\\)`));
    } finally {
      gate.release();
    }
    assert.equal((await first.result()).status, 'succeeded');
  });

  it('cancelling a pipeline cancels its running stream at a batch boundary; both rows say cancelled', async () => {
    await seedCustomers(h.db.pool, streams.held!.tables.source, 30, 101); // new rows: several batches to go when the cancel comes
    const gate = streams.held!.source.hold(streams.held!.source.fetches);
    const handle = await startPipeline(h, p('lock'));
    await gate.reached;
    await handle.cancel();
    gate.release();
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    const row = (await pipelineRows(h, p('lock'))).at(-1)!;
    assert.equal(row.id, handle.firstExecutionRunId);
    assert.equal(row.status, 'cancelled');
    assert.deepEqual(row.steps.map((st) => st.status), ['cancelled', 'not-run']);
    const streamRun = (await runRows(h, s('held'))).at(-1)!;
    assert.equal(streamRun.status, 'cancelled', 'the stream run was cancelled, and wrote its row');
    assert.equal(row.steps[0]!.runs[0]!.status, 'cancelled');
    assert.equal(row.steps[0]!.runs[0]!.runId, streamRun.id);
    assert.equal((await h.client.workflow.getHandle(s('held')).describe()).status.name, 'CANCELLED');
  });

  it('ferry pipeline run --wait --json and ferry pipeline list report the steps; a failed pipeline exits 4', async () => {
    const ok = await ferry(h, fixture, ['pipeline', 'run', p('cli'), '--wait', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as PipelineSummary;
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(report.steps.map((st) => [st.name, st.status, st.runs[0]?.counts?.created]), [[s('cli1'), 'succeeded', 20], [s('cli2'), 'succeeded', 20]]);

    await h.db.pool.query(`update ${streams.cli1!.tables.source} set name = 'Changed', updated_at = clock_timestamp() where id = 7`);
    const text = await ferry(h, fixture, ['pipeline', 'run', p('cli'), '--wait']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`pipeline ${p('cli')}: succeeded`));
    assert.match(text.stdout, new RegExp(`1\\. ${s('cli1')}: succeeded`));
    assert.match(text.stdout, new RegExp(`${s('cli1')}: succeeded — created 0, updated 1, skipped 0`), 'the second run carried the one change');

    const failed = await ferry(h, fixture, ['pipeline', 'run', p('stop'), '--wait', '--json']);
    assert.equal(failed.code, 4, failed.stderr);
    const failedReport = JSON.parse(failed.stdout) as PipelineSummary;
    assert.equal(failedReport.status, 'failed');
    assert.deepEqual(failedReport.steps.map((st) => st.status), ['succeeded', 'failed', 'not-run']);

    const list = await ferry(h, fixture, ['pipeline', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { name: string; lastRun: { status: string; runId: string } | null }[];
    assert.equal(listed.find((x) => x.name === p('cli'))?.lastRun?.status, 'succeeded');
    assert.equal(listed.find((x) => x.name === p('stop'))?.lastRun?.status, 'failed');
    const table = await ferry(h, fixture, ['pipeline', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^pipeline\s+steps\s+schedule\s+last run\s+status/m);

    const unknown = await ferry(h, fixture, ['pipeline', 'run', 'no-such-pipeline']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown pipeline "no-such-pipeline"/);
  });

  it('checks pipelines against the config when it loads: unknown streams, clashing names', () => {
    const one = customerStream('cfg.a', h.db.url, { source: 'x', target: 'y' });
    assert.throws(
      () => new StreamRegistry([one], [definePipeline({ name: 'cfg.p', steps: ['cfg.a', ['cfg.a', 'cfg.nope']] })]),
      /pipeline "cfg\.p": step 2 \("cfg\.a \+ cfg\.nope"\): unknown stream "cfg\.nope" \(known streams: cfg\.a\)/,
    );
    assert.throws(() => new StreamRegistry([one], [definePipeline({ name: 'cfg.a', steps: ['cfg.a'] })]), /pipeline "cfg\.a" has the name of a stream/);
    assert.throws(
      () => new StreamRegistry([one], [definePipeline({ name: 'cfg.p', steps: [one] }), definePipeline({ name: 'cfg.p', steps: [one] })]),
      /pipeline "cfg\.p" is defined twice/,
    );
    assert.throws(() => definePipeline({ name: 'cfg.p', steps: [{ streams: 'cfg.a', onFailure: 'ignore' as never }] }), /pipeline "cfg\.p": step 1: field "onFailure" must be 'stop' or 'continue'/);
    assert.throws(() => definePipeline({ name: 'cfg.p', steps: [] }), /pipeline "cfg\.p": field "steps": a pipeline needs at least one step/);
    assert.throws(() => definePipeline({ name: 'cfg.p', steps: ['cfg.a'], schedule: { cron: '0 25 * * *' } }), /pipeline "cfg\.p": field "schedule\.cron": cron "0 25 \* \* \*": hour 25 is out of range 0-23/);
  });
});
