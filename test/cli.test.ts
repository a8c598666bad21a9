// The CLI, as people and scripts use it: run --wait (progress, --json, --chunk-size),
// stream pairs (--direction), the status table and --json, and Ctrl-C while waiting
// (cancel, detach). The CLI runs as a real process, on a pseudo-terminal where a
// person's terminal matters; real Temporal, real PostgreSQL, in-process worker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { StreamRegistry } from '../src/config/load-config.js';
import { streamsToRun } from '../src/config/pairs.js';
import { ConfigurationError } from '../src/core/errors.js';
import { renderTable } from '../src/cli/table.js';
import { parsePgTimestamp } from '../src/connectors/keyset-cursor.js';
import { scheduleIdOf } from '../src/workflows/ids.js';
import { startCli, cli } from './support/cli-process.js';
import { cliStreamKeys, cliStreamNames, cliStreams, cliTables, type CliStreamKey } from './support/cli-streams.js';
import { createCustomerTables, customerSource, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { gatedSource, type GatedSource } from './support/gated-source.js';
import { createHarness, type Harness } from './support/harness.js';

interface RunRowJson {
  id: string;
  status: string;
  mode: string;
  batches: number;
  created: number;
  updated: number;
  skipped: number;
  deleted: number;
  failed: number;
  started_at: string;
  finished_at: string | null;
}

interface StatusJson {
  stream: string;
  pair: { name: string; direction: string } | null;
  checkpoint: { cursor: { value: string; key: string[] }; runId: string; updatedAt: string } | null;
  lag: { seconds: number; since: string; basis: 'cursor' | 'written' } | null;
  deadLetters: number;
  lastRun: RunRowJson | null;
  progress: unknown;
  schedule: { id: string; paused: boolean; nextRunAt: string | null } | null;
  nextRunAt: string | null;
  runs: RunRowJson[];
}

interface OutcomeJson {
  runId: string;
  stream: string;
  mode: string;
  status: string;
  batches: number;
  records?: number;
  counts: { created: number; updated: number; skipped: number; deleted: number; failed: number };
}

/** A held fetch reached, or a clear failure instead of a test hanging until its timeout. */
async function reached(gate: { reached: Promise<void> }, ms = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the held fetch was not reached within ${ms} ms`)), ms)));
  try {
    await Promise.race([gate.reached, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('ferry CLI', () => {
  let h: Harness;
  let prefix: string;
  let names: ReturnType<typeof cliStreamNames>;
  const sources = {} as Record<CliStreamKey, GatedSource>;

  async function runRows(stream: string) {
    const { rows } = await h.db.pool.query(
      `select id, status, mode, batches, created, updated, skipped, deleted, failed, started_at, finished_at from ferry_runs where stream = $1 order by started_at`,
      [stream],
    );
    return rows as (Omit<RunRowJson, 'started_at' | 'finished_at'> & { started_at: Date; finished_at: Date | null })[];
  }

  before(async () => {
    h = await createHarness('cli');
    prefix = h.name('cli');
    names = cliStreamNames(prefix);
    for (const key of cliStreamKeys) {
      const tables = await createCustomerTables(h.db.pool, `_${key}`);
      assert.deepEqual(tables, cliTables(key));
      sources[key] = gatedSource(customerSource(h.db.url, tables.source, { system: key === 'export' ? 'app' : 'crm' }));
    }
    await h.startWorker(cliStreams(prefix, h.db.url, sources));
  });
  after(() => h.close());

  const env = () => ({ FERRY_TEST_PREFIX: prefix });

  it('run --wait --json prints only the summary; --chunk-size sets the records per batch for the run', async () => {
    const { source } = cliTables('basic');
    await seedCustomers(h.db.pool, source, 23);

    const first = await cli(h, ['run', names.basic, '--wait', '--json', '--chunk-size', '5'], { env: env() });
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as OutcomeJson;
    assert.deepEqual(
      { ...summary, runId: typeof summary.runId },
      { runId: 'string', stream: names.basic, mode: 'incremental', status: 'succeeded', batches: 5, records: 23, counts: { created: 23, updated: 0, skipped: 0, deleted: 0, failed: 0 } },
    );
    assert.doesNotMatch(first.stderr, /records \|/, 'no progress with --json');
    const [row] = await runRows(names.basic);
    assert.equal(row?.id, summary.runId);
    assert.equal(row?.batches, 5);

    // a full pass: the stream's own batch size (10) makes 3 batches, --chunk-size 4 makes 6
    const own = await cli(h, ['run', names.basic, '--full', '--wait', '--json'], { env: env() });
    assert.equal(own.code, 0, own.stderr);
    assert.equal((JSON.parse(own.stdout) as OutcomeJson).batches, 3);
    const chunked = await cli(h, ['run', names.basic, '--full', '--wait', '--json', '--chunk-size', '4'], { env: env() });
    assert.equal(chunked.code, 0, chunked.stderr);
    const c = JSON.parse(chunked.stdout) as OutcomeJson;
    assert.deepEqual({ batches: c.batches, records: c.records, mode: c.mode, skipped: c.counts.skipped }, { batches: 6, records: 23, mode: 'full', skipped: 23 });

    // a run without --json says the same in words; progress lines go to stderr, not stdout
    const words = await cli(h, ['run', names.basic, '--wait'], { env: env() });
    assert.equal(words.code, 0, words.stderr);
    assert.match(words.stdout, new RegExp(`^${names.basic.replace(/\./g, '\\.')}: succeeded — created 0, updated 0, skipped 0, deleted 0, failed 0 \\(0 records in 1 batches\\)\\n$`));

    const both = await cli(h, ['run', names.basic, '--chunk-size', '4', '--batch-size', '5'], { env: env() });
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--chunk-size is another name for --batch-size/);
    assert.equal((await runRows(names.basic)).length, 4, 'the refused run left no row');
  });

  it('status --json matches the run rows: last run, counts, lag from the cursor time, dead letters; the table shows every stream', async () => {
    const { source } = cliTables('basic');
    // one dead letter, and a newest change 90 s old: the lag
    await h.db.pool.query(`update ${source} set email = 'not an email', updated_at = now() - interval '100 seconds' where id = 4`);
    await h.db.pool.query(`update ${source} set name = 'Renamed', updated_at = now() - interval '90 seconds' where id = 23`);
    const ran = await cli(h, ['run', names.basic, '--wait', '--json'], { env: env() });
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual((JSON.parse(ran.stdout) as OutcomeJson).counts, { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 1 });

    const before = Date.now();
    const status = await cli(h, ['status', '--json', '--runs', '3'], { env: env() });
    const after = Date.now();
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as StatusJson[];
    assert.deepEqual(report.map((s) => s.stream).sort(), Object.values(cliStreamKeys.map((k) => names[k])).sort());

    const basic = report.find((s) => s.stream === names.basic)!;
    const rows = (await runRows(names.basic)).reverse();
    assert.equal(basic.runs.length, 3);
    assert.deepEqual(
      basic.runs.map((r) => [r.id, r.status, r.mode, r.batches, r.created, r.updated, r.skipped, r.deleted, r.failed]),
      rows.slice(0, 3).map((r) => [r.id, r.status, r.mode, r.batches, r.created, r.updated, r.skipped, r.deleted, r.failed]),
    );
    assert.deepEqual(basic.lastRun, basic.runs[0]);
    assert.equal(new Date(basic.lastRun!.started_at).getTime(), rows[0]!.started_at.getTime());
    const letters = (await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters where stream = $1`, [names.basic])).rows[0].n;
    assert.equal(letters, 1);
    assert.equal(basic.deadLetters, letters);
    const cursorValue = (await h.db.pool.query(`select updated_at::text as v from ${source} where id = 23`)).rows[0].v;
    assert.deepEqual(basic.checkpoint?.cursor, { value: cursorValue, key: ['23'] });
    assert.equal(basic.lag?.basis, 'cursor');
    const since = (await h.db.pool.query(`select extract(epoch from updated_at) * 1000 as ms from ${source} where id = 23`)).rows[0].ms;
    assert.ok(Math.abs(new Date(basic.lag!.since).getTime() - Number(since)) < 1, `lag counted from the cursor time ${basic.lag!.since}`);
    assert.ok(basic.lag!.seconds >= (before - Number(since)) / 1000 - 1 && basic.lag!.seconds <= (after - Number(since)) / 1000 + 1, `lag ${basic.lag!.seconds}s`);
    assert.ok(basic.lag!.seconds >= 89, `about 90 s: ${basic.lag!.seconds}`);
    assert.equal(basic.schedule, null);
    assert.equal(basic.nextRunAt, null);
    const idle = report.find((s) => s.stream === names.watch)!;
    assert.deepEqual({ lastRun: idle.lastRun, lag: idle.lag, deadLetters: idle.deadLetters, runs: idle.runs, checkpoint: idle.checkpoint }, { lastRun: null, lag: null, deadLetters: 0, runs: [], checkpoint: null });
    assert.deepEqual(report.find((s) => s.stream === names.import)?.pair, { name: names.pair, direction: 'import' });

    // a Temporal Schedule with the stream's schedule id gives the next run (cron on 1 January: it does not fire here)
    const scheduleId = scheduleIdOf(names.basic);
    const schedule = await h.client.schedule.create({
      scheduleId,
      spec: { cronExpressions: ['0 0 1 1 *'] },
      action: { type: 'startWorkflow', workflowType: 'syncStream', workflowId: names.basic, taskQueue: h.settings.taskQueue, args: [{ stream: names.basic }] },
    });
    try {
      const next = (await schedule.describe()).info.nextActionTimes[0]!;
      const withSchedule = await cli(h, ['status', names.basic, '--json'], { env: env() });
      assert.equal(withSchedule.code, 0, withSchedule.stderr);
      const [s] = JSON.parse(withSchedule.stdout) as StatusJson[];
      assert.deepEqual(s?.schedule, { id: scheduleId, paused: false, nextRunAt: next.toISOString() });
      assert.equal(s?.nextRunAt, next.toISOString());

      const table = await cli(h, ['status'], { env: env() });
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^stream +last run +status +created +updated +skipped +deleted +failed +lag +dead letters +next run$/);
      assert.equal(lines.length, 1 + cliStreamKeys.length);
      const basicLine = lines.find((l) => l.startsWith(`${names.basic} `))!;
      assert.match(basicLine, /ago +succeeded +0 +1 +0 +0 +1 +\d+m \d\ds +1 +in \d+/);
      assert.match(lines.find((l) => l.startsWith(`${names.watch} `))!, / never run +- +- +- +- +- +- +0 +-$/);

      await schedule.pause('test');
      const paused = JSON.parse((await cli(h, ['status', names.basic, '--json'], { env: env() })).stdout) as StatusJson[];
      assert.deepEqual(paused[0]?.schedule, { id: scheduleId, paused: true, nextRunAt: null });
      const details = await cli(h, ['status', names.basic], { env: env() });
      assert.match(details.stdout, /dead letters: 1/);
      assert.match(details.stdout, /lag: \d+m \d\ds \(since the checkpoint cursor time/);
      assert.match(details.stdout, new RegExp(`next run: schedule ${scheduleId.replace(/[.]/g, '\\.')} is paused`));
    } finally {
      await schedule.delete();
    }
  });

  it('a stream pair: --direction both runs the import stream, then the export stream; a pair name needs --direction', async () => {
    await seedCustomers(h.db.pool, cliTables('import').source, 15);
    await seedCustomers(h.db.pool, cliTables('export').source, 12, 100);

    const bare = await cli(h, ['run', names.pair, '--wait'], { env: env() });
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, /is a stream pair .*--direction import, export or both/);
    const notPaired = await cli(h, ['run', names.basic, '--direction', 'import'], { env: env() });
    assert.equal(notPaired.code, 2);
    assert.match(notPaired.stderr, /is not part of a pair/);
    const badDirection = await cli(h, ['run', names.pair, '--direction', 'sideways'], { env: env() });
    assert.equal(badDirection.code, 2);

    const both = await cli(h, ['run', names.pair, '--direction', 'both', '--json'], { env: env() });
    assert.equal(both.code, 0, both.stderr);
    const outcomes = JSON.parse(both.stdout) as OutcomeJson[];
    assert.deepEqual(
      outcomes.map((o) => [o.stream, o.status, o.counts.created]),
      [
        [names.import, 'succeeded', 15],
        [names.export, 'succeeded', 12],
      ],
    );
    const [imported] = await runRows(names.import);
    const [exported] = await runRows(names.export);
    assert.ok(imported?.finished_at && exported, 'one run row each');
    assert.ok(imported.finished_at.getTime() <= exported.started_at.getTime(), 'the export started after the import ended');
    for (const key of ['import', 'export'] as const) {
      assert.deepEqual(await targetRows(h.db.pool, cliTables(key).target), await sourceRows(h.db.pool, cliTables(key).source));
    }

    const one = await cli(h, ['run', names.pair, '--direction', 'export', '--wait', '--json'], { env: env() });
    assert.equal(one.code, 0, one.stderr);
    assert.equal((JSON.parse(one.stdout) as OutcomeJson).stream, names.export);
    assert.equal((await runRows(names.import)).length, 1, 'only the export stream ran');
    assert.equal((await runRows(names.export)).length, 2);
  });

  it('Ctrl-C on a terminal, then "c": the run is cancelled at a batch boundary; the CLI waits for it, prints the counts and exits 6', async () => {
    const { source } = cliTables('watch');
    await seedCustomers(h.db.pool, source, 60);
    const gate = sources.watch.hold(sources.watch.fetches + 2); // the third batch (fetches are counted across runs)
    const p = startCli(h, ['run', names.watch, '--wait'], { env: env(), tty: true });
    try {
      await reached(gate);
      await p.waitFor(/syncing \| batch 2 \| 20 records \| [\d.]+ rec\/s \| created 20 · updated 0 · skipped 0 · failed 0/);
      p.type('\u0003');
      await p.waitFor(/interrupted\. c = cancel the run .* d = detach/);
      p.type('c');
      await p.waitFor(/cancelling/);
    } finally {
      gate.release();
    }
    const { code } = await p.exited;
    assert.equal(code, 6, p.output);
    assert.match(p.output, new RegExp(`${names.watch.replace(/\./g, '\\.')}: cancelled — created 30, updated 0, skipped 0, deleted 0, failed 0 \\(3 batches\\)`));
    await assert.rejects(h.client.workflow.getHandle(names.watch).result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    const rows = await runRows(names.watch);
    assert.deepEqual(
      rows.map((r) => [r.status, r.batches, r.created]),
      [['cancelled', 3, 30]],
    );
    assert.equal((await targetRows(h.db.pool, cliTables('watch').target)).length, 30);
  });

  it('Ctrl-C without a terminal detaches at once (exit 130, how to cancel); the run goes on and succeeds', async () => {
    const { source, target } = cliTables('detach');
    await seedCustomers(h.db.pool, source, 40);
    const gate = sources.detach.hold(sources.detach.fetches + 1);
    const p = startCli(h, ['run', names.detach, '--wait'], { env: env() });
    let exited: Awaited<typeof p.exited>;
    try {
      await reached(gate);
      // plain progress lines on stderr when it is not a terminal
      await p.waitFor(/Z .*: syncing \| batch 1 \| 10 records/);
      p.signal('SIGINT');
      exited = await p.exited;
      const running = await h.client.workflow.getHandle(names.detach).describe();
      assert.equal(running.status.name, 'RUNNING', 'the run goes on without the CLI');
    } finally {
      gate.release();
    }
    assert.equal(exited.code, 130, p.output);
    assert.equal(p.stdout, '');
    assert.match(p.stderr, /detached — the run goes on in Temporal \(at batch 1/);
    assert.ok(p.stderr.includes(`ferry cancel ${names.detach}`), p.stderr);

    const summary = (await h.client.workflow.getHandle(names.detach).result()) as OutcomeJson;
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.counts.created, 40);
    assert.deepEqual(
      (await runRows(names.detach)).map((r) => [r.status, r.created]),
      [['succeeded', 40]],
    );
    assert.deepEqual(await targetRows(h.db.pool, target), await sourceRows(h.db.pool, source));
  });

  it('Ctrl-C on a terminal, then "d": detached (exit 130); a second Ctrl-C detaches too; --json prints the detached run', async () => {
    const { source } = cliTables('detach');
    await seedCustomers(h.db.pool, source, 20, 1000);
    const gate = sources.detach.hold(sources.detach.fetches);
    const p = startCli(h, ['run', names.detach, '--wait'], { env: env(), tty: true });
    try {
      await reached(gate);
      await p.waitFor(/waiting for the worker|syncing/);
      p.type('\u0003');
      await p.waitFor(/\[c\/d\/w\]/);
      p.type('d');
      const { code } = await p.exited;
      assert.equal(code, 130, p.output);
      assert.match(p.output, /detached — the run goes on/);
      assert.equal((await h.client.workflow.getHandle(names.detach).describe()).status.name, 'RUNNING');
    } finally {
      gate.release();
    }
    assert.equal(((await h.client.workflow.getHandle(names.detach).result()) as OutcomeJson).counts.created, 20);

    await seedCustomers(h.db.pool, source, 5, 2000);
    const gate2 = sources.detach.hold(sources.detach.fetches);
    const q = startCli(h, ['run', names.detach, '--wait', '--json'], { env: env(), tty: true });
    try {
      // reached: the run is past beginRun, so the CLI, which watches right after the start, listens for Ctrl-C
      await reached(gate2);
      q.type('\u0003');
      await q.waitFor(/\[c\/d\/w\]/);
      q.type('\u0003'); // in the prompt, Ctrl-C is a key: the second Ctrl-C
      const { code } = await q.exited;
      assert.equal(code, 130, q.output);
      const json = /\{[\s\S]*\}/.exec(q.output.slice(q.output.indexOf('[c/d/w]')))?.[0];
      assert.ok(json, q.output);
      const detached = JSON.parse(json.replace(/\r\n/g, '\n')) as { stream: string; detached: boolean; workflowRunId: string };
      assert.equal(detached.stream, names.detach);
      assert.equal(detached.detached, true);
    } finally {
      gate2.release();
    }
    assert.equal(((await h.client.workflow.getHandle(names.detach).result()) as OutcomeJson).counts.created, 5);
  });

  it('cancel, reset and migrate answer in JSON too', async () => {
    // 3 batches to read, newer than the checkpoint: the cancel lands before the last
    await seedCustomers(h.db.pool, cliTables('basic').source, 30, 100);
    await h.db.pool.query(`update ${cliTables('basic').source} set updated_at = clock_timestamp() where id >= 100`);
    const gate = sources.basic.hold(sources.basic.fetches);
    const handle = await h.start({ stream: names.basic });
    try {
      await reached(gate);
      const cancel = await cli(h, ['cancel', names.basic, '--json'], { env: env() });
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.deepEqual(JSON.parse(cancel.stdout), { stream: names.basic, workflowId: names.basic, workflowRunId: handle.firstExecutionRunId, cancelRequested: true });
    } finally {
      gate.release();
    }
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    const again = await cli(h, ['cancel', names.basic, '--json'], { env: env() });
    assert.equal(again.code, 2);
    assert.equal(again.stdout, '');

    const reset = await cli(h, ['reset', names.basic, '--json'], { env: env() });
    assert.equal(reset.code, 0, reset.stderr);
    assert.deepEqual(JSON.parse(reset.stdout), { stream: names.basic, checkpointRemoved: true, bindingsForgotten: null });
    const bindings = (await h.db.pool.query(`select count(*)::int as n from ferry_bindings where stream = $1`, [names.basic])).rows[0].n;
    assert.equal(bindings, 23 + 10, 'the first runs, and the batch before the cancel');
    const resetBindings = await cli(h, ['reset', names.basic, '--bindings', '--json'], { env: env() });
    assert.deepEqual(JSON.parse(resetBindings.stdout), { stream: names.basic, checkpointRemoved: false, bindingsForgotten: 33 });

    const migrate = await cli(h, ['migrate', '--json'], { env: env() });
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.deepEqual(JSON.parse(migrate.stdout), { applied: [], upToDate: true });
  });
});

describe('stream pairs, timestamps and tables (no servers)', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/unused';
  const stream = (name: string, pair?: { pair: string; direction: 'import' | 'export' }) => customerStream(name, url, { source: 's', target: 't' }, { ...pair });

  it('pair and direction go together; a pair with two streams one way, or named like a stream, is refused at load', () => {
    assert.throws(() => customerStream('x', url, { source: 's', target: 't' }, { pair: 'p' }), (err: unknown) => err instanceof ConfigurationError && /stream "x": field "direction": pair and direction go together/.test(err.message));
    assert.throws(() => customerStream('x', url, { source: 's', target: 't' }, { direction: 'import' }), /field "pair": pair and direction go together/);
    assert.throws(() => customerStream('x', url, { source: 's', target: 't' }, { pair: 'p', direction: 'both' as never }), /field "direction"/);
    assert.throws(() => new StreamRegistry([stream('a', { pair: 'p', direction: 'import' }), stream('b', { pair: 'p', direction: 'import' })]), /pair "p" has two import streams: "a" and "b"/);
    assert.throws(() => new StreamRegistry([stream('a', { pair: 'b', direction: 'import' }), stream('b')]), /pair "b" is also the name of a stream/);
  });

  it('picks the streams a name and a direction mean', () => {
    const registry = new StreamRegistry([stream('in', { pair: 'p', direction: 'import' }), stream('out', { pair: 'p', direction: 'export' }), stream('solo'), stream('half', { pair: 'h', direction: 'export' })]);
    const names = (name: string, direction?: 'import' | 'export' | 'both') => streamsToRun(registry, name, direction).map((s) => s.name);
    assert.deepEqual(names('p', 'both'), ['in', 'out']);
    assert.deepEqual(names('p', 'export'), ['out']);
    assert.deepEqual(names('solo'), ['solo']);
    assert.deepEqual(names('in'), ['in']);
    assert.deepEqual(names('in', 'import'), ['in']);
    assert.throws(() => names('p'), /"p" is a stream pair \(import: "in", export: "out"\): say which way with --direction import, export or both/);
    assert.throws(() => names('in', 'both'), /ferry run p --direction both/);
    assert.throws(() => names('solo', 'import'), /not part of a pair/);
    assert.throws(() => names('h', 'both'), /pair "h" has no import stream/);
    assert.throws(() => names('nope'), /unknown stream "nope".*p \(pair\)/);
  });

  it('reads PostgreSQL and ISO timestamps (the lag of timestamp cursors)', () => {
    assert.equal(parsePgTimestamp('2026-01-01 00:00:00.000001+00')?.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(parsePgTimestamp('2026-03-04 10:20:30.56789+05:30')?.toISOString(), '2026-03-04T04:50:30.567Z');
    assert.equal(parsePgTimestamp('2026-03-04 10:20:30-08')?.toISOString(), '2026-03-04T18:20:30.000Z');
    assert.equal(parsePgTimestamp('2026-03-04T10:20:30.5Z')?.toISOString(), '2026-03-04T10:20:30.500Z');
    assert.equal(parsePgTimestamp('2026-03-04 10:20:30')?.toISOString(), '2026-03-04T10:20:30.000Z', 'no zone: UTC');
    assert.equal(parsePgTimestamp('42'), null);
  });

  it('renders aligned tables, "-" for empty cells', () => {
    const text = renderTable([{ header: 'name' }, { header: 'n', align: 'right' }, { header: 'note', maxWidth: 6 }], [['a', 1, null], ['long name', 1234, 'a long note\nsecond line']]);
    assert.equal(text, ['name          n  note', 'a             1  -', 'long name  1234  a lon…'].map((l) => `${l}\n`).join(''));
  });
});
