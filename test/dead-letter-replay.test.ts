// The dead-letter queue as operators use it (ferry dlq list/show/replay/discard,
// through the real CLI process): a replay runs the kept raw records through
// validate -> map -> upsert again with the worker's current stream definition,
// as a run of the stream (run row, stream lock, checkpoint untouched), with the
// records travelling by claim check, never through Temporal history.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { StreamOptions } from '../src/config/define-stream.js';
import type { Target, TargetRow, UpsertResult, WriteContext } from '../src/connectors/target.js';
import { MappingError } from '../src/core/errors.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import { runCli, type CliResult } from './support/cli.js';
import { createCustomerTables, customerSchema, customerSource, customerStream, customerTarget, seedCustomers } from './support/customers.js';
import { forwardTarget } from './support/forward.js';
import { createGates } from './support/gates.js';
import { gatedSource, type GatedSource } from './support/gated-source.js';
import { createHarness, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories, historyText } from './support/history.js';

type Tables = { source: string; target: string };
type MapFn = NonNullable<StreamOptions<typeof customerSchema>['map']>;

/** A real target whose upserts the test can hold, to pin a replay mid-batch. */
interface GatedTarget extends Target {
  readonly upserts: number;
  hold(n: number): { reached: Promise<void>; release: () => void };
  /** the next upsert throws this many times first (a transient error: the activity is retried) */
  failNext: number;
}

function gatedTarget(inner: Target): GatedTarget {
  const gates = createGates();
  let upserts = 0;
  const target: GatedTarget = {
    ...forwardTarget(inner),
    failNext: 0,
    get upserts() {
      return upserts;
    },
    hold: (n) => gates.hold(n),
    async upsert(rows: readonly TargetRow[], context: WriteContext): Promise<UpsertResult> {
      await gates.pass(upserts++);
      if (target.failNext > 0) {
        target.failNext -= 1;
        throw new Error('connection reset by the test');
      }
      return inner.upsert(rows, context);
    },
  };
  return target;
}

interface LetterJson {
  id: string;
  stream: string;
  system: string;
  key: string[] | null;
  recordKey: string;
  stage: string;
  attempts: number;
  error: string;
  runId: string;
  firstFailedAt: string;
  lastFailedAt: string;
  issues?: { path: string; message: string }[];
  raw?: Record<string, unknown>;
}

interface ReplayJson {
  stream: string;
  selected: number;
  outcome: string;
  workflowId?: string;
  summary?: RunSummary;
  stillFailing?: LetterJson[];
  message?: string;
}

interface LetterRow {
  id: string;
  record_key: string;
  stage: string;
  error: string;
  issues: { path: string; message: string }[];
  attempts: number;
  run_id: string;
  first_failed_at: Date;
  last_failed_at: Date;
}

async function letters(h: Harness, stream: string): Promise<LetterRow[]> {
  const { rows } = await h.db.pool.query<LetterRow>(
    `select id, record_key, stage, error, issues, attempts, run_id, first_failed_at, last_failed_at
     from ferry_dead_letters where stream = $1 order by id`, // id: bigint, ordered as a number (pg gives it as a string)
    [stream],
  );
  return rows;
}

/** The command's JSON output, once its exit code is checked (7: a replay left dead letters in the queue). */
function json<T>(r: CliResult, code = 0): T {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A source row as the Postgres source reads it. */
async function rawRow(h: Harness, table: string, id: number): Promise<Record<string, unknown>> {
  const { rows } = await h.db.pool.query(`select id::text as id, email, name, score, updated_at::text as updated_at from ${table} where id = $1`, [id]);
  return rows[0];
}

/** target: customer_id -> [name, score] */
async function targetById(h: Harness, table: string): Promise<Map<string, [string, number]>> {
  const { rows } = await h.db.pool.query<{ id: string; name: string; score: number }>(`select customer_id::text as id, name, score from ${table} order by customer_id`);
  return new Map(rows.map((r) => [r.id, [r.name, r.score]]));
}


/** The first mapper's rule, relaxed: negative scores down to -100 are clamped to 0; below that refused with a new message. */
const clampingMap: MapFn = (c) => {
  if (c.score < -100) throw new MappingError('score below -100 cannot be clamped', 'score');
  return { kind: 'customer', fields: { customer_id: c.id, email: c.email, name: c.name, score: Math.max(0, c.score), source_updated_at: c.updated_at } };
};

describe('dead-letter queue: list, show, replay, discard', () => {
  let h: Harness;
  const names = ['main', 'version', 'lock', 'canary'] as const;
  type Name = (typeof names)[number];
  const t = {} as Record<Name, { stream: string; tables: Tables }>;
  const maps: Partial<Record<Name, MapFn>> = {};
  let lockSource: GatedSource;
  let lockTarget: GatedTarget;

  /** (Re)starts the worker with each stream's current mapper: how an operator deploys a fixed mapper. */
  async function startWorker(): Promise<void> {
    await h.startWorker(
      names.map((n) => {
        const { stream, tables } = t[n];
        const options: Partial<StreamOptions<typeof customerSchema>> = { ...(maps[n] ? { map: maps[n] } : {}) };
        if (n === 'lock') Object.assign(options, { source: lockSource, target: lockTarget });
        if (n === 'canary') Object.assign(options, { batchSize: 3, continueAsNewEvery: 1 });
        return customerStream(stream, h.db.url, tables, options);
      }),
    );
  }

  const cli = (n: Name, ...args: string[]) => runCli(h, args, t[n].stream, t[n].tables);

  before(async () => {
    h = await createHarness('dlqreplay');
    for (const n of names) t[n] = { stream: h.name(`dlq.${n}`), tables: await createCustomerTables(h.db.pool, `_${n}`) };
    lockSource = gatedSource(customerSource(h.db.url, t.lock.tables.source));
    lockTarget = gatedTarget(customerTarget(h.db.url, t.lock.tables.target));
    await startWorker();
  });
  after(() => h.close());

  let ids: Record<'k3' | 'k6' | 'k9' | 'k12', string>;

  it('a run dead-letters schema, mapper and target failures; dlq list and show describe them', async () => {
    const { stream, tables } = t.main;
    await seedCustomers(h.db.pool, tables.source, 20);
    await h.db.pool.query(`update ${tables.source} set email = 'not-an-email' where id = 3`);
    await h.db.pool.query(`update ${tables.source} set score = -5 where id = 6`);
    await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME' where id = 9`);
    await h.db.pool.query(`update ${tables.source} set score = -1000 where id = 12`);
    const summary = await h.run({ stream });
    assert.deepEqual({ ...summary.counts }, { created: 16, updated: 0, skipped: 0, deleted: 0, failed: 4 });

    const listed = json<{ total: number; deadLetters: LetterJson[] }>(await cli('main', 'dlq', 'list', '--json'));
    assert.equal(listed.total, 4);
    assert.deepEqual(
      listed.deadLetters.map((l) => [l.stream, l.key, l.stage, l.attempts, l.runId]),
      [
        [stream, ['3'], 'validate', 1, summary.runId],
        [stream, ['6'], 'map', 1, summary.runId],
        [stream, ['9'], 'target', 1, summary.runId],
        [stream, ['12'], 'map', 1, summary.runId],
      ],
    );
    const [l3, l6, l9, l12] = listed.deadLetters as [LetterJson, LetterJson, LetterJson, LetterJson];
    ids = { k3: l3.id, k6: l6.id, k9: l9.id, k12: l12.id };
    assert.match(l3.error, /field "email": Invalid email/);
    assert.match(l6.error, /score must not be negative/);
    assert.match(l9.error, /violates check constraint/);
    assert.ok(!Number.isNaN(Date.parse(l3.lastFailedAt)));

    const limited = json<{ total: number; deadLetters: LetterJson[] }>(await cli('main', 'dlq', 'list', stream, '--limit', '2', '--json'));
    assert.equal(limited.total, 4);
    assert.deepEqual(limited.deadLetters.map((l) => l.id), [ids.k3, ids.k6]);

    const table = await cli('main', 'dlq', 'list', stream);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^\s*id\s+stream\s+key\s+stage\s+attempts\s+last failure\s+error$/);
    assert.equal(lines.length, 6, table.stdout);
    assert.match(lines[1] ?? '', new RegExp(`^\\s*${ids.k3}\\s+${stream.replace(/[.]/g, '\\.')}\\s+3\\s+validate\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+field "email": Invalid email`));
    assert.ok(!lines[1]?.includes('record ["3"]'), 'the error column drops the "stream …, record …:" prefix');
    assert.match(lines[5] ?? '', /^4 dead letters; ferry dlq show <id>/);

    const shown = json<LetterJson>(await cli('main', 'dlq', 'show', ids.k3, '--json'));
    assert.equal(shown.id, ids.k3);
    assert.equal(shown.stage, 'validate');
    assert.equal(shown.runId, summary.runId);
    assert.equal(shown.attempts, 1);
    assert.deepEqual(shown.issues?.map((i) => i.path), ['email']);
    assert.deepEqual(shown.raw, await rawRow(h, tables.source, 3));
    assert.equal(shown.firstFailedAt, shown.lastFailedAt);

    const text = await cli('main', 'dlq', 'show', ids.k12);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^dead letter ${ids.k12}\\n`));
    assert.match(text.stdout, /\n {2}stage: +map\n/);
    assert.match(text.stdout, /\n {4}score: score must not be negative\n/);
    assert.match(text.stdout, new RegExp(`\\n {2}run: +${summary.runId}\\n`));
    assert.match(text.stdout, /\n {2}attempts: +1\n/);
    assert.match(text.stdout, /"score": -1000/);

    // clear errors, exit code 2
    const unknownId = await cli('main', 'dlq', 'show', '987654321');
    assert.equal(unknownId.code, 2);
    assert.match(unknownId.stderr, /no dead letter with id 987654321/);
    const notAnId = await cli('main', 'dlq', 'show', 'abc');
    assert.equal(notAnId.code, 2);
    assert.match(notAnId.stderr, /"abc" is not a dead-letter id/);
    const unknownStream = await cli('main', 'dlq', 'list', 'no.such.stream');
    assert.equal(unknownStream.code, 2);
    assert.match(unknownStream.stderr, /unknown stream "no\.such\.stream"/);
  });

  it('replay with a fixed mapper and target: fixed records reach the target and leave the queue; still-bad ones stay, one attempt more, with the new error', async () => {
    const { stream, tables } = t.main;
    const checkpointBefore = (await h.db.pool.query(`select cursor, run_id, updated_at from ferry_checkpoints where stream = $1`, [stream])).rows[0];
    assert.ok(checkpointBefore, 'the sync run left a checkpoint');
    const before = await letters(h, stream);

    // the fix: the target accepts the name, and a new mapper clamps small negative scores
    await h.db.pool.query(`alter table ${tables.target} drop constraint ${tables.target}_name_check`);
    maps.main = clampingMap;
    await startWorker();

    const out = json<{ replays: ReplayJson[] }>(await cli('main', 'dlq', 'replay', stream, '--json'), 7);
    assert.equal(out.replays.length, 1);
    const replay = out.replays[0] as ReplayJson;
    assert.equal(replay.outcome, 'incomplete', 'two of the four stay in the queue');
    assert.equal(replay.selected, 4);
    assert.equal(replay.workflowId, stream, 'the replay holds the stream lock: its workflow id is the stream name');
    const summary = replay.summary as RunSummary;
    assert.equal(summary.mode, 'replay');
    assert.equal(summary.records, 4);
    assert.deepEqual({ ...summary.counts }, { created: 2, updated: 0, skipped: 0, deleted: 0, failed: 2 });
    assert.deepEqual(summary.deadLetters, { selected: 4, replayed: 2, remaining: 2 });
    assert.deepEqual(replay.stillFailing?.map((l) => l.key), [['3'], ['12']]);

    // 6 and 9 reached the target, with the current mapper's projection
    const target = await targetById(h, tables.target);
    assert.equal(target.size, 18);
    assert.deepEqual(target.get('6'), ['Customer 6', 0]);
    assert.deepEqual(target.get('9'), ['REJECT ME', 9]);
    assert.ok(!target.has('3') && !target.has('12'));
    const bound = await h.db.pool.query(`select record_key, last_seen_run from ferry_bindings where stream = $1 and record_key = any($2) order by record_key`, [stream, ['["6"]', '["9"]']]);
    assert.deepEqual(bound.rows, [
      { record_key: '["6"]', last_seen_run: summary.runId },
      { record_key: '["9"]', last_seen_run: summary.runId },
    ]);

    // 3 (schema) and 12 (refused by the new mapper too) stay: same rows, one attempt more, the newest error
    const after = await letters(h, stream);
    assert.deepEqual(after.map((l) => [l.id, l.record_key, l.stage, l.attempts, l.run_id]), [
      [ids.k3, '["3"]', 'validate', 2, summary.runId],
      [ids.k12, '["12"]', 'map', 2, summary.runId],
    ]);
    const [a3, a12] = after as [LetterRow, LetterRow];
    const [b3, , , b12] = before as [LetterRow, LetterRow, LetterRow, LetterRow];
    assert.match(a3.error, /field "email": Invalid email/);
    assert.match(a12.error, /field "score": score below -100 cannot be clamped/);
    assert.deepEqual(a12.issues, [{ path: 'score', message: 'score below -100 cannot be clamped' }]);
    assert.ok(a12.last_failed_at > b12.last_failed_at && a3.last_failed_at > b3.last_failed_at, 'last failure moved');
    assert.deepEqual(a12.first_failed_at, b12.first_failed_at, 'first failure kept');

    // the run row: a run like any other, mode replay
    const run = (await h.db.pool.query(`select workflow_id, mode, status, batches, created, updated, skipped, deleted, failed, message, finished_at from ferry_runs where id = $1`, [summary.runId])).rows[0];
    assert.equal(run.workflow_id, stream);
    assert.equal(run.mode, 'replay');
    assert.equal(run.status, 'warning', 'dead letters it was asked to replay remain');
    assert.deepEqual([run.batches, run.created, run.updated, run.skipped, run.deleted, run.failed], [1, 2, 0, 0, 0, 2]);
    assert.equal(run.message, 'replayed 2 of 4 selected dead letters; 2 remain in the queue (2 failed again)');
    assert.ok(run.finished_at);
    // the checkpoint did not move; the run's staging is gone
    const checkpointAfter = (await h.db.pool.query(`select cursor, run_id, updated_at from ferry_checkpoints where stream = $1`, [stream])).rows[0];
    assert.deepEqual(checkpointAfter, checkpointBefore);
    const staged = await h.db.pool.query(`select count(*)::int as n from ferry_staging where run_id = $1`, [summary.runId]);
    assert.equal(staged.rows[0].n, 0);

    // a replay of one id, in text: that record only
    const one = await cli('main', 'dlq', 'replay', ids.k12);
    assert.equal(one.code, 7, one.stderr);
    assert.match(one.stdout, new RegExp(`^${stream.replace(/[.]/g, '\\.')}: replay incomplete — created 0, updated 0, skipped 0, deleted 0, failed 1; 0 of 1 dead letter replayed, 1 left in the queue \\(run `));
    assert.match(one.stdout, /still in the queue \(failed again\):\n\s+id\s+key\s+stage\s+attempts\s+error\n\s+\d+\s+12\s+map\s+3\s+field "score": score below -100 cannot be clamped/);
    assert.deepEqual((await letters(h, stream)).map((l) => [l.record_key, l.attempts]), [['["3"]', 2], ['["12"]', 3]]);

    // the bindings the replay wrote carry the records' versions: a full pass finds them unchanged
    const full = await h.run({ stream, full: true });
    assert.deepEqual({ ...full.counts }, { created: 0, updated: 0, skipped: 18, deleted: 0, failed: 2 });
  });

  it('a replayed record whose version the target already has is written again with the current mapper, not skipped', async () => {
    const { stream, tables } = t.version;
    await seedCustomers(h.db.pool, tables.source, 5);
    assert.deepEqual({ ...(await h.run({ stream })).counts }, { created: 5, updated: 0, skipped: 0, deleted: 0, failed: 0 });

    // a stricter mapper refuses record 2 on a full pass: dead-lettered at the version its binding has
    maps.version = (c, ctx) => {
      if (c.id === '2') throw new MappingError('held for review', 'id');
      return clampingMap(c, ctx);
    };
    await startWorker();
    assert.deepEqual({ ...(await h.run({ stream, full: true })).counts }, { created: 0, updated: 0, skipped: 4, deleted: 0, failed: 1 });
    const [letter] = await letters(h, stream);
    assert.equal(letter?.record_key, '["2"]');
    const binding = (await h.db.pool.query(`select version from ferry_bindings where stream = $1 and record_key = '["2"]'`, [stream])).rows[0];
    assert.equal(binding.version, (await rawRow(h, tables.source, 2)).updated_at, 'the binding already has the dead letter\'s version');

    // the current mapper writes names differently; the replay must write that, not skip the record
    maps.version = (c, ctx) => {
      const p = clampingMap(c, ctx);
      return { ...p, fields: { ...p.fields, name: `${c.name} (v3)` } };
    };
    await startWorker();
    const out = json<{ replays: ReplayJson[] }>(await cli('version', 'dlq', 'replay', stream, '--json'));
    assert.deepEqual({ ...out.replays[0]?.summary?.counts }, { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    assert.equal(out.replays[0]?.outcome, 'succeeded');
    assert.deepEqual(out.replays[0]?.summary?.deadLetters, { selected: 1, replayed: 1, remaining: 0 });
    assert.deepEqual(out.replays[0]?.stillFailing, []);
    const target = await targetById(h, tables.target);
    assert.deepEqual(target.get('2'), ['Customer 2 (v3)', 2]);
    assert.deepEqual(target.get('3'), ['Customer 3', 3], 'records not replayed are untouched');
    assert.deepEqual(await letters(h, stream), []);
  });

  it('a replay holds the stream lock: refused while a sync runs (exit 3), and a sync, a second replay or a discard are refused while it runs', async () => {
    const { stream, tables } = t.lock;
    await seedCustomers(h.db.pool, tables.source, 10);
    await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME' where id = 4`);
    assert.deepEqual({ ...(await h.run({ stream })).counts }, { created: 9, updated: 0, skipped: 0, deleted: 0, failed: 1 });

    // a sync run in progress: the replay is refused and changes nothing
    const fetchGate = lockSource.hold(lockSource.fetches);
    const sync = await h.start({ stream });
    await fetchGate.reached;
    try {
      const refused = await cli('lock', 'dlq', 'replay', stream);
      assert.equal(refused.code, 3, `exit code; stderr: ${refused.stderr}`);
      assert.match(refused.stderr, new RegExp(`cannot replay dead letters of ${stream.replace(/[.]/g, '\\.')}: a sync run of it is in progress \\(workflow id "${stream.replace(/[.]/g, '\\.')}", run ${sync.firstExecutionRunId}\\)`));
      assert.match(refused.stderr, /ferry cancel/);
      const refusedJson = await cli('lock', 'dlq', 'replay', stream, '--json');
      assert.equal(refusedJson.code, 3);
      assert.equal((JSON.parse(refusedJson.stdout) as { replays: ReplayJson[] }).replays[0]?.outcome, 'refused');
    } finally {
      fetchGate.release();
    }
    assert.equal((await sync.result()).status, 'succeeded');
    assert.deepEqual((await letters(h, stream)).map((l) => [l.record_key, l.attempts]), [['["4"]', 1]]);
    const replayRuns = await h.db.pool.query(`select count(*)::int as n from ferry_runs where stream = $1 and mode = 'replay'`, [stream]);
    assert.equal(replayRuns.rows[0].n, 0, 'a refused replay leaves no run row');

    // a replay in progress (held in its upsert): sync, second replay and discard are refused
    const upsertGate = lockTarget.hold(lockTarget.upserts);
    const started = await cli('lock', 'dlq', 'replay', stream, '--no-wait');
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /replay of 1 dead letter started/);
    await upsertGate.reached;
    try {
      await assert.rejects(h.start({ stream }), (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError);
      const run = await cli('lock', 'run', stream);
      assert.equal(run.code, 3);
      assert.match(run.stderr, /is already running/);
      const again = await cli('lock', 'dlq', 'replay', stream);
      assert.equal(again.code, 3);
      assert.match(again.stderr, /a dead-letter replay of it is in progress/);
      const discard = await cli('lock', 'dlq', 'discard', stream);
      assert.equal(discard.code, 3);
      assert.match(discard.stderr, /cannot discard dead letters of .*: a dead-letter replay of it is in progress/);
    } finally {
      upsertGate.release();
    }
    const result = (await h.client.workflow.getHandle(stream).result()) as RunSummary;
    assert.equal(result.mode, 'replay');
    // the target still refuses the name: the record stays, one attempt more
    assert.deepEqual({ ...result.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 1 });
    assert.deepEqual((await letters(h, stream)).map((l) => [l.record_key, l.stage, l.attempts, l.run_id]), [['["4"]', 'target', 2, result.runId]]);

    // a transient target error: upsertBatch is retried, and the failure is still counted once
    lockTarget.failNext = 1;
    const retried = json<{ replays: ReplayJson[] }>(await cli('lock', 'dlq', 'replay', stream, '--json'), 7).replays[0]?.summary as RunSummary;
    assert.deepEqual({ ...retried.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 1 });
    assert.deepEqual(activityAttempts(await chainHistories(h.client, stream), 'upsertBatch'), [2]);
    assert.deepEqual((await letters(h, stream)).map((l) => [l.record_key, l.attempts, l.run_id]), [['["4"]', 3, retried.runId]]);
  });

  it('discard removes dead letters by id and by stream and prints what it removed; unknown ids and foreign streams are refused', async () => {
    const { stream } = t.main;
    const byId = json<{ discarded: LetterJson[] }>(await cli('main', 'dlq', 'discard', ids.k3, '--json'));
    assert.deepEqual(byId.discarded.map((l) => [l.id, l.key, l.stage]), [[ids.k3, ['3'], 'validate']]);
    assert.deepEqual((await letters(h, stream)).map((l) => l.record_key), ['["12"]']);

    const nothing = await cli('main', 'dlq', 'discard');
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /say what to discard/);
    const unknown = await cli('main', 'dlq', 'discard', ids.k3);
    assert.equal(unknown.code, 2, 'a discarded id is gone');
    assert.match(unknown.stderr, new RegExp(`no dead letter with id ${ids.k3}`));
    const unknownStream = await cli('main', 'dlq', 'discard', 'no.such.stream');
    assert.equal(unknownStream.code, 2);
    assert.match(unknownStream.stderr, /unknown stream/);
    // the lock stream's dead letter, seen through a config that does not define that stream
    const [foreign] = await letters(h, t.lock.stream);
    for (const verb of ['discard', 'replay']) {
      const r = await cli('main', 'dlq', verb, foreign?.id ?? '');
      assert.equal(r.code, 2, `${verb}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`dead letter ${foreign?.id} \\(stream "${t.lock.stream.replace(/[.]/g, '\\.')}"\\): the stream is not in the config`));
    }
    assert.equal((await letters(h, t.lock.stream)).length, 1, 'left alone');

    const byStream = await cli('main', 'dlq', 'discard', stream);
    assert.equal(byStream.code, 0, byStream.stderr);
    assert.match(byStream.stdout, /^discarded 1 dead letter:\n\s*id\s+stream\s+key\s+stage\s+error\n/);
    assert.match(byStream.stdout, new RegExp(`\\n\\s*${ids.k12}\\s+\\S+\\s+12\\s+map\\s+field "score"`));
    assert.deepEqual(await letters(h, stream), []);
    const empty = json<{ total: number }>(await cli('main', 'dlq', 'list', stream, '--json'));
    assert.equal(empty.total, 0);
    const again = await cli('main', 'dlq', 'discard', stream);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to discard/);
    const replayNothing = await cli('main', 'dlq', 'replay', stream);
    assert.equal(replayNothing.code, 0);
    assert.match(replayNothing.stdout, /nothing to replay/);
  });

  it('keeps the replayed records out of the workflow history, across continue-as-new', async () => {
    const { stream, tables } = t.canary;
    const canary = `canary${randomBytes(6).toString('hex')}`;
    await seedCustomers(h.db.pool, tables.source, 20);
    await h.db.pool.query(`update ${tables.source} set name = 'Name ' || $1 || ' ' || id, email = $1 || id || '@example.com'`, [canary]);
    await h.db.pool.query(`update ${tables.source} set score = -1 where id in (2, 5, 8, 11, 14, 17, 20)`);
    await h.db.pool.query(`update ${tables.source} set email = $1 || ' not an email' where id = 10`, [canary]);
    assert.deepEqual({ ...(await h.run({ stream })).counts }, { created: 12, updated: 0, skipped: 0, deleted: 0, failed: 8 });
    const letterHits = await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters where stream = $1 and raw::text like '%' || $2 || '%'`, [stream, canary]);
    assert.equal(letterHits.rows[0].n, 8);

    maps.canary = clampingMap;
    await startWorker();
    const out = json<{ replays: ReplayJson[] }>(await cli('canary', 'dlq', 'replay', '--json'), 7);
    const replay = out.replays.find((r) => r.stream === stream);
    assert.equal(out.replays.length, 1, 'no argument: every stream of the config with dead letters');
    assert.deepEqual({ ...replay?.summary?.counts }, { created: 7, updated: 0, skipped: 0, deleted: 0, failed: 1 });
    assert.equal(replay?.summary?.batches, 3, '8 dead letters, 3 per batch');
    const targetHits = await h.db.pool.query(`select count(*)::int as n from ${tables.target} where name like '%' || $1 || '%'`, [canary]);
    assert.equal(targetHits.rows[0].n, 19, 'the canary did travel, through the state store');

    const histories = await chainHistories(h.client, stream);
    assert.ok(histories.length >= 3, `continue-as-new after each batch: ${histories.length} executions`);
    const texts = histories.map(historyText);
    assert.ok(texts[0]?.includes('replayDeadLetters'), 'the chain is the replay');
    assert.ok(texts.every((x) => x.includes(`"stream":"${stream}"`)), 'the decoding works: what travels is readable');
    texts.forEach((text, i) => assert.ok(!text.includes(canary), `execution ${i + 1} of ${texts.length} holds record data`));
  });
});
