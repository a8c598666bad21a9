// Temporal Schedules from the config: `ferry schedule apply` (idempotent, --prune),
// list / describe / pause / unpause / trigger / delete, and the lock that keeps a
// scheduled run from overlapping a run started any other way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleNotFoundError, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import { definePipeline } from '../src/config/define-pipeline.js';
import type { StreamDefinition } from '../src/config/define-stream.js';
import type { ScheduleConfig } from '../src/config/schedule.js';
import type { ApplyResult } from '../src/schedules/apply.js';
import type { ScheduleView } from '../src/schedules/inspect.js';
import { scheduleIdOf } from '../src/workflows/ids.js';
import type { ScheduledRunInput, ScheduledRunResult } from '../src/workflows/pipeline-contracts.js';
import type { scheduledRun } from '../src/workflows/scheduled-run.js';
import { cli } from './support/cli-process.js';
import { createCustomerTables, customerSource, customerStream, seedCustomers } from './support/customers.js';
import { gatedSource, type GatedSource } from './support/gated-source.js';
import { createHarness, type Harness } from './support/harness.js';
import { ferry, runRows, settledExecutionCount, type SchedulingFixture } from './support/scheduling.js';

type Key = 'nightly' | 'often' | 'locked' | 'rapid' | 'member';

const KALININGRAD: ScheduleConfig = { cron: '0 7 * * *', timezone: 'Europe/Kaliningrad', catchupWindow: '1h' };

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('schedules', () => {
  let h: Harness;
  const streams = {} as Record<Key, { name: string; source: GatedSource; tables: { source: string; target: string } }>;
  let pipeline: string;
  const created = new Set<string>();

  const name = (k: Key) => streams[k].name;
  const handleOf = (n: string): ScheduleHandle => h.client.schedule.getHandle(scheduleIdOf(n));

  /** The config of the CLI processes: every stream, with the schedules given. */
  function fixture(schedules: Partial<Record<Key | 'pipeline', ScheduleConfig>>, extra: SchedulingFixture['streams'] = []): SchedulingFixture {
    for (const k of Object.keys(schedules)) created.add(scheduleIdOf(k === 'pipeline' ? pipeline : name(k as Key)));
    return {
      url: h.db.url,
      streams: [
        ...(Object.keys(streams) as Key[]).map((k) => ({ name: name(k), source: streams[k].tables.source, target: streams[k].tables.target, ...(schedules[k] ? { schedule: schedules[k] } : {}) })),
        ...extra,
      ],
      pipelines: [{ name: pipeline, steps: [name('member')], ...(schedules.pipeline ? { schedule: schedules.pipeline } : {}) }],
    };
  }

  async function apply(f: SchedulingFixture, ...flags: string[]): Promise<ApplyResult[]> {
    const r = await ferry(h, f, ['schedule', 'apply', '--json', ...flags]);
    assert.equal(r.code, 0, `apply exit code; stderr: ${r.stderr}`);
    return JSON.parse(r.stdout) as ApplyResult[];
  }

  const actions = (results: readonly ApplyResult[]) => Object.fromEntries(results.map((r) => [r.name, r.action]));

  async function gone(n: string): Promise<boolean> {
    return handleOf(n)
      .describe()
      .then(() => false)
      .catch((err: unknown) => (err instanceof ScheduleNotFoundError ? true : Promise.reject(err)));
  }

  before(async () => {
    h = await createHarness('schedules');
    const definitions: StreamDefinition[] = [];
    for (const k of ['nightly', 'often', 'locked', 'rapid', 'member'] as const) {
      const tables = await createCustomerTables(h.db.pool, `_${k}`);
      await seedCustomers(h.db.pool, tables.source, 20);
      const source = gatedSource(customerSource(h.db.url, tables.source));
      streams[k] = { name: h.name(`sched.${k}`), source, tables };
      definitions.push(customerStream(streams[k].name, h.db.url, tables, { source }));
    }
    pipeline = h.name('sched.pipeline');
    await h.startWorker(definitions, [definePipeline({ name: pipeline, steps: [streams.member.name] })]);
  });

  after(async () => {
    // the dev server is shared by the test files of this run: leave no schedule behind
    for (const id of created) await h.client.schedule.getHandle(id).delete().catch(() => undefined);
    await h.close();
  });

  it('apply creates the schedules: cron in a time zone, interval, catch-up window, overlap skip, a ferry memo and note', async () => {
    const f = fixture({ nightly: KALININGRAD, often: { every: '30s', catchupWindow: '10 minutes' }, pipeline: { cron: '30 6 * * MON-FRI', timezone: 'Europe/Kaliningrad' } });
    assert.deepEqual(actions(await apply(f)), { [name('nightly')]: 'created', [name('often')]: 'created', [pipeline]: 'created' });

    const nightly = await handleOf(name('nightly')).describe();
    assert.equal(nightly.scheduleId, `ferry:${name('nightly')}`);
    assert.equal(nightly.spec.timezone, 'Europe/Kaliningrad');
    assert.equal(nightly.policies.catchupWindow, 3_600_000);
    assert.equal(nightly.policies.overlap, 'SKIP');
    assert.equal(nightly.action.workflowType, 'scheduledRun');
    assert.equal(nightly.action.taskQueue, h.settings.taskQueue);
    assert.deepEqual(nightly.action.args, [{ kind: 'stream', name: name('nightly') } satisfies ScheduledRunInput]);
    assert.deepEqual(nightly.memo, { ferry: { managedBy: 'ferry', kind: 'stream', name: name('nightly') } });
    assert.equal(nightly.action.staticSummary, `ferry: scheduled stream "${name('nightly')}" (takes the lock "${name('nightly')}")`, 'the Web UI line of each scheduled workflow');
    assert.match(nightly.state.note ?? '', /cron 0 7 \* \* \* \(Europe\/Kaliningrad\), catch-up window 1h, overlap skip/);
    assert.equal(nightly.state.paused, false);
    // 07:00 in Kaliningrad (UTC+2, no daylight saving) is 05:00 UTC
    const next = nightly.info.nextActionTimes[0]!;
    assert.deepEqual([next.getUTCHours(), next.getUTCMinutes()], [5, 0], `next run ${next.toISOString()}`);

    const often = await handleOf(name('often')).describe();
    assert.deepEqual(often.spec.intervals?.map((i) => i.every), [30_000]);
    assert.equal(often.policies.catchupWindow, 600_000);
    assert.equal(often.policies.overlap, 'SKIP');

    const p = await handleOf(pipeline).describe();
    assert.deepEqual(p.action.args, [{ kind: 'pipeline', name: pipeline }]);
    assert.equal(p.policies.catchupWindow, 3_600_000, 'the default catch-up window is 1 h');
    assert.equal(p.spec.timezone, 'Europe/Kaliningrad');
    const days = p.info.nextActionTimes.map((t) => t.getUTCDay());
    assert.ok(days.length > 0 && days.every((d) => d >= 1 && d <= 5), `weekdays only: ${days.join(',')}`);
    assert.ok(p.info.nextActionTimes.every((t) => t.getUTCHours() === 4 && t.getUTCMinutes() === 30));
  });

  it('apply is idempotent: a second apply changes nothing and says "unchanged"; a changed schedule is updated, a paused one stays paused', async () => {
    const f = fixture({ nightly: KALININGRAD, often: { every: '30s', catchupWindow: '10 minutes' }, pipeline: { cron: '30 6 * * MON-FRI', timezone: 'Europe/Kaliningrad' } });
    const before = await handleOf(name('nightly')).describe();
    const again = await ferry(h, f, ['schedule', 'apply']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^unchanged +ferry:${name('nightly')} `, 'm'));
    assert.match(again.stdout, /^3 unchanged$/m);
    const after = await handleOf(name('nightly')).describe();
    assert.equal(after.info.lastUpdatedAt?.getTime(), before.info.lastUpdatedAt?.getTime(), 'not updated');

    const paused = await ferry(h, f, ['schedule', 'pause', name('often'), '--note', 'maintenance window']);
    assert.equal(paused.code, 0, paused.stderr);
    const changed = fixture({ nightly: { ...KALININGRAD, cron: '15 7 * * *' }, often: { every: '45s', catchupWindow: '10 minutes' }, pipeline: { cron: '30 6 * * MON-FRI', timezone: 'Europe/Kaliningrad' } });
    assert.deepEqual(actions(await apply(changed)), { [name('nightly')]: 'updated', [name('often')]: 'updated', [pipeline]: 'unchanged' });
    const nightly = await handleOf(name('nightly')).describe();
    assert.deepEqual([nightly.info.nextActionTimes[0]!.getUTCHours(), nightly.info.nextActionTimes[0]!.getUTCMinutes()], [5, 15]);
    assert.equal(nightly.spec.timezone, 'Europe/Kaliningrad');
    const often = await handleOf(name('often')).describe();
    assert.deepEqual(often.spec.intervals?.map((i) => i.every), [45_000]);
    assert.equal(often.state.paused, true, 'apply keeps a paused schedule paused');
    assert.equal(often.state.note, 'maintenance window');
    assert.deepEqual(actions(await apply(changed)), { [name('nightly')]: 'unchanged', [name('often')]: 'unchanged', [pipeline]: 'unchanged' });
  });

  it('prune deletes only the ferry schedules of this deployment that the config no longer declares; a taken id is a conflict', async () => {
    // not ferry's: no memo (same prefix), another prefix, and a ferry schedule of another task queue
    const strangers: Record<string, ScheduleDescription['memo']> = {
      [`ferry:${h.name('stranger')}`]: undefined,
      [`other:${h.name('stranger')}`]: { ferry: { managedBy: 'ferry', kind: 'stream', name: 'x' } },
      [`ferry:${h.name('elsewhere')}`]: { ferry: { managedBy: 'ferry', kind: 'stream', name: h.name('elsewhere') } },
    };
    for (const [id, memo] of Object.entries(strangers)) {
      created.add(id);
      await h.client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every: '1h' }] },
        action: { type: 'startWorkflow', workflowType: 'scheduledRun', taskQueue: id.includes('elsewhere') ? 'another-deployment' : h.settings.taskQueue, args: [{ kind: 'stream', name: 'x' }] },
        ...(memo ? { memo } : {}),
        state: { paused: true, note: 'test stranger' },
      });
    }
    const withoutOften = fixture({ nightly: { ...KALININGRAD, cron: '15 7 * * *' }, pipeline: { cron: '30 6 * * MON-FRI', timezone: 'Europe/Kaliningrad' } });
    const kept = await apply(withoutOften);
    assert.equal(actions(kept)[name('often')], 'orphan', 'reported, not deleted, without --prune');
    assert.match(kept.find((r) => r.name === name('often'))?.detail ?? '', /--prune/);
    assert.equal(await gone(name('often')), false);

    const pruned = await apply(withoutOften, '--prune');
    assert.deepEqual(actions(pruned), { [name('nightly')]: 'unchanged', [pipeline]: 'unchanged', [name('often')]: 'deleted' });
    assert.equal(await gone(name('often')), true);
    for (const id of Object.keys(strangers)) await h.client.schedule.getHandle(id).describe(); // all still there

    // a stream whose schedule id is taken by a schedule ferry did not create
    const clash = await ferry(h, fixture({}, [{ name: h.name('stranger'), source: streams.nightly.tables.source, target: streams.nightly.tables.target, schedule: { every: '1h' } }]), ['schedule', 'apply']);
    assert.equal(clash.code, 2, clash.stderr);
    assert.match(clash.stdout, new RegExp(`^conflict +ferry:${h.name('stranger')}`, 'm'));
    assert.match(clash.stderr, /that ferry did not create/);
    assert.equal((await h.client.schedule.getHandle(`ferry:${h.name('stranger')}`).describe()).state.note, 'test stranger', 'left alone');
  });

  it('list, describe, pause, unpause, trigger and delete, with --json', async () => {
    const f = fixture({ nightly: { ...KALININGRAD, cron: '15 7 * * *' }, pipeline: { cron: '30 6 * * MON-FRI', timezone: 'Europe/Kaliningrad' } });
    const list = await ferry(h, f, ['schedule', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const views = JSON.parse(list.stdout) as ScheduleView[];
    const nightly = views.find((v) => v.name === name('nightly'));
    assert.equal(nightly?.state, 'applied');
    assert.equal(nightly?.timezone, 'Europe/Kaliningrad');
    assert.equal(nightly?.catchupWindow, '1h');
    assert.equal(nightly?.overlap, 'SKIP');
    assert.equal(views.find((v) => v.name === pipeline)?.kind, 'pipeline');
    assert.ok(!views.some((v) => v.scheduleId.includes('stranger') || v.scheduleId.includes('elsewhere')), 'schedules not of this deployment are not listed');
    const table = await ferry(h, f, ['schedule', 'list']);
    assert.match(table.stdout, /^name +kind +state +schedule +paused +next run +last run$/m);
    assert.match(table.stdout, new RegExp(`^${name('nightly')} +stream +applied +cron 15 7`, 'm'));

    const paused = await ferry(h, f, ['schedule', 'pause', pipeline, '--json']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.deepEqual(JSON.parse(paused.stdout), { name: pipeline, scheduleId: `ferry:${pipeline}`, action: 'pause', done: true, spec: 'cron 30 6 * * MON-FRI (Europe/Kaliningrad), catch-up window 1h, overlap skip' });
    const described = JSON.parse((await ferry(h, f, ['schedule', 'describe', pipeline, '--json'])).stdout) as ScheduleView;
    assert.equal(described.paused, true);
    assert.equal(described.state, 'applied');
    assert.equal(described.nextRuns.length > 0, true);
    const text = await ferry(h, f, ['schedule', 'describe', pipeline]);
    assert.match(text.stdout, /time zone: Europe\/Kaliningrad, catch-up window: 1h, overlap: SKIP/);
    assert.match(text.stdout, /paused: yes/);
    assert.match(text.stdout, /next runs: \d{4}-\d\d-\d\d 06:30 Europe\/Kaliningrad, /, 'next runs in the schedule\'s own time zone');
    assert.equal((await ferry(h, f, ['schedule', 'unpause', pipeline])).code, 0);
    assert.equal((await handleOf(pipeline).describe()).state.paused, false);

    // trigger: the pipeline runs through the schedule, its row says so
    const triggered = await ferry(h, f, ['schedule', 'trigger', pipeline, '--json']);
    assert.equal(triggered.code, 0, triggered.stderr);
    const action = await eventually('the triggered action', async () => (await handleOf(pipeline).describe()).info.recentActions[0]);
    assert.match(action.action.workflow.workflowId, new RegExp(`^ferry:${pipeline}-`));
    const result = await h.client.workflow.getHandle<typeof scheduledRun>(action.action.workflow.workflowId).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.kind === 'pipeline' && result.summary.status, 'succeeded');
    const { rows } = await h.db.pool.query(`select status, trigger from ferry_pipeline_runs where pipeline = $1`, [pipeline]);
    assert.deepEqual(rows, [{ status: 'succeeded', trigger: 'schedule' }]);

    const deleted = await ferry(h, f, ['schedule', 'delete', pipeline, '--json']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await gone(pipeline), true);
    const missing = JSON.parse((await ferry(h, f, ['schedule', 'describe', pipeline, '--json'])).stdout) as ScheduleView;
    assert.equal(missing.state, 'missing', 'still in the config, no longer in Temporal');
    const nothing = await ferry(h, f, ['schedule', 'pause', pipeline]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, new RegExp(`no schedule "ferry:${pipeline}" in Temporal`));
    const notFerry = await ferry(h, f, ['schedule', 'delete', h.name('stranger')]);
    assert.equal(notFerry.code, 2);
    assert.match(notFerry.stderr, /was not created by ferry/);
  });

  it('one run per stream whoever starts it: a trigger while a CLI-started run holds the stream is skipped, starting nothing', async () => {
    const f = fixture({ locked: { cron: '0 3 * * *', timezone: 'Europe/Kaliningrad' } });
    assert.equal(actions(await apply(f))[name('locked')], 'created');
    const stream = name('locked');
    const gate = streams.locked.source.hold(0);
    const manual = await cli(h, ['run', stream, '--json'], { config: 'scheduling.config.ts', env: { FERRY_TEST_SCHEDULING: JSON.stringify(f) } });
    assert.equal(manual.code, 0, manual.stderr);
    try {
      await gate.reached;
      const triggered = await ferry(h, f, ['schedule', 'trigger', stream]);
      assert.equal(triggered.code, 0, triggered.stderr);
      const action = await eventually('the triggered action', async () => (await handleOf(stream).describe()).info.recentActions[0]);
      const result: ScheduledRunResult = await h.client.workflow.getHandle<typeof scheduledRun>(action.action.workflow.workflowId).result();
      assert.equal(result.status, 'skipped');
      assert.equal(result.status === 'skipped' && result.runningWorkflowId, stream, 'names the running workflow');
      assert.match(result.status === 'skipped' ? result.reason : '', new RegExp(`stream "${stream}" already has a run in progress \\(workflow "${stream}"\\); this scheduled run started nothing`));
      assert.equal((await runRows(h, stream)).length, 1, 'no second run row');
    } finally {
      gate.release();
    }
    await h.client.workflow.getHandle(stream).result();
    const rows = await runRows(h, stream);
    assert.deepEqual(rows.map((r) => [r.status, r.created]), [['succeeded', 20]], 'one run row: the CLI-started run');
    assert.equal(await settledExecutionCount(h.client, 'syncStream', stream, 1), 1, 'one syncStream execution');
  });

  it('near real time: a 30 s interval piles nothing up; ticks and triggers while a run is held are skipped, even a trigger that allows overlap', async () => {
    const stream = name('rapid');
    const gate = streams.rapid.source.hold(0);
    const f = fixture({ rapid: { every: '30s' } });
    assert.equal(actions(await apply(f))[stream], 'created');
    const handle = handleOf(stream);
    try {
      await handle.trigger('SKIP');
      await gate.reached; // a scheduled run holds the stream (from the trigger or a first tick)
      const first = await eventually('the first scheduled run', async () => (await handle.describe()).info.runningActions[0]);
      for (let i = 0; i < 3; i++) await handle.trigger('SKIP');
      // one tick of the 30 s interval passes while the run is held: the schedule moves past it without taking it
      const tick = (await handle.describe()).info.nextActionTimes[0]!;
      await sleep(Math.max(0, tick.getTime() - Date.now()));
      let seen: ScheduleDescription['info'] | undefined;
      const d = await eventually('the schedule to pass the tick', async () => {
        const x = await handle.describe();
        seen = x.info;
        return x.info.nextActionTimes[0]! > tick ? x : undefined;
      })
        .then(async () => {
          await sleep(2000); // and time to take it, if it were to
          return handle.describe();
        }).catch((err: unknown) => {
        throw new Error(`${String(err)}; tick was due ${tick.toISOString()}, schedule info: ${JSON.stringify(seen)}`);
      });
      assert.equal(d.info.numActionsTaken, 1, `triggers and the tick took no action while the run was held: ${JSON.stringify(d.info)}`);
      assert.ok(d.info.numActionsSkippedOverlap >= 1, `skipped for overlap: ${d.info.numActionsSkippedOverlap}`);
      assert.equal(d.info.runningActions.length, 1, 'still the one scheduled run');
      assert.equal(d.info.runningActions[0]!.workflow.workflowId, first.workflow.workflowId);

      // allow-all bypasses the overlap policy: the stream lock still refuses a second run
      await handle.trigger('ALLOW_ALL');
      const second = await eventually('the allow-all action', async () => (await handle.describe()).info.recentActions.find((a) => a.action.workflow.workflowId !== first.workflow.workflowId));
      const skipped = await h.client.workflow.getHandle<typeof scheduledRun>(second.action.workflow.workflowId).result();
      assert.equal(skipped.status, 'skipped');
      await handle.pause('test: stop ticking before the held run is released');
    } finally {
      gate.release();
    }
    const done = (await handleOf(stream).describe()).info.recentActions[0]!;
    const result = await h.client.workflow.getHandle<typeof scheduledRun>(done.action.workflow.workflowId).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.kind === 'stream' && result.summary.counts.created, 20);
    assert.equal((await runRows(h, stream)).length, 1, 'one run row');
    assert.equal(await settledExecutionCount(h.client, 'syncStream', stream, 1), 1, 'one syncStream execution');
  });

  it('the exactly-one checks count after a quiet window: a duplicate that starts after the first is visible is seen', async () => {
    // no worker polls this task queue: the executions stay open, run no code and touch nothing
    const id = h.name('late-duplicate');
    const start = () => h.client.workflow.start('syncStream', { workflowId: id, taskQueue: `${h.settings.taskQueue}-nobody`, args: [{ stream: id }] });
    const first = await start();
    const late = sleep(1_000).then(async () => {
      await first.terminate('test: make way for a late duplicate');
      return start();
    });
    try {
      assert.equal(await settledExecutionCount(h.client, 'syncStream', id, 1), 2);
    } finally {
      await (await late).terminate('test: done');
    }
  });

  it('refuses bad schedules up front, naming the stream and the field', async () => {
    const bad = await ferry(h, fixture({ nightly: { cron: '0 7 * *', timezone: 'Europe/Kaliningrad' } }), ['schedule', 'apply']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`stream "${name('nightly')}": field "schedule.cron": cron "0 7 \\* \\*" has 4 fields; expected 5`));
    const zone = await ferry(h, fixture({ nightly: { cron: '0 7 * * *', timezone: 'Europe/Kaliningrd' } }), ['schedule', 'apply']);
    assert.equal(zone.code, 2);
    assert.match(zone.stderr, /field "schedule.timezone": unknown time zone "Europe\/Kaliningrd"/);
    const fast = await ferry(h, fixture({ nightly: { every: '10s' } }), ['schedule', 'apply']);
    assert.equal(fast.code, 2);
    assert.match(fast.stderr, /field "schedule.every": interval 10s is shorter than the minimum of 30s/);
  });
});
