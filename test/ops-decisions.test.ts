// Decisions a person makes (issue 11): `ferry run --dry-run` (counts and sample
// keys exact on a prepared table; target, bindings and checkpoint unchanged),
// `ferry reset --to` (a plan first, applied with --yes), and a mirror-delete
// above the guard that waits for `ferry approve` / `ferry reject` / a timeout.
// A real worker in this process, the CLI as real processes, a real dev server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { defineStream, type GuardTripPolicy } from '../src/config/define-stream.js';
import { ConfigurationError } from '../src/core/errors.js';
import { serializeKey } from '../src/core/key.js';
import { FerryMetrics } from '../src/metrics/ferry-metrics.js';
import { METRIC } from '../src/metrics/names.js';
import { createStateDb, type StateDb } from '../src/state/db.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import { deleteApprovalQuery } from '../src/workflows/delete-approval-contracts.js';
import type { DryRunOutput } from '../src/workflows/dry-run-contracts.js';
import { cli } from './support/cli-process.js';
import { createCustomerTables, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';
import { OPS_CASES, opsStreamName, opsStreams, type OpsCase } from './support/ops-streams.js';
import { waitFor } from './support/worker-children.js';

const key = (id: number) => serializeKey([String(id)]);
const keys = (ids: readonly number[]) => ids.map(key).sort();

describe('decisions a person makes: dry run, reset --to, mirror-delete approval', () => {
  let h: Harness;
  let state: StateDb;
  const prefix = `ops-${Date.now().toString(36)}`;
  const name = (c: OpsCase) => opsStreamName(prefix, c);
  const ferry = (args: string[]) => cli(h, args, { config: 'ops.config.ts', env: { FERRY_OPS_PREFIX: prefix } });

  before(async () => {
    h = await createHarness('ops_decisions');
    for (const c of Object.keys(OPS_CASES) as OpsCase[]) await createCustomerTables(h.db.pool, `_${c}`);
    await h.startWorker(opsStreams(prefix, h.db.url));
    state = createStateDb(h.db.url, 2);
  });

  after(async () => {
    await state?.destroy();
    await h?.close();
  });

  /** Everything a run may write: target rows, bindings, checkpoint, dead letters, run rows. */
  async function footprint(c: OpsCase) {
    const { pool } = h.db;
    const q = async (text: string) => (await pool.query(text, [name(c)])).rows.map((r: Record<string, unknown>) => JSON.stringify(r));
    return {
      target: await targetRows(pool, `dst_customers_${c}`),
      bindings: await q(`select record_key, internal_id, version, last_seen_run from ferry_bindings where stream = $1 order by record_key`),
      checkpoint: await q(`select cursor, run_id, updated_at from ferry_checkpoints where stream = $1`),
      deadLetters: await q(`select record_key from ferry_dead_letters where stream = $1 order by record_key`),
      runs: await q(`select id, status from ferry_runs where stream = $1 order by started_at`),
      staging: await q(`select batch_id from ferry_staging where stream = $1`),
    };
  }

  it("onGuardTrip is checked by defineStream: a bad duration names the field; '2h' is kept in milliseconds", () => {
    const { source, target, schema, name: streamName } = opsStreams(prefix, h.db.url)[0]!.resolved;
    const options = (onGuardTrip: unknown) => ({ name: streamName, source, target, schema, key: 'id', deletes: { mode: 'mirror' as const, onGuardTrip: onGuardTrip as GuardTripPolicy } });
    assert.throws(() => defineStream(options({ await: '10 fortnights' })), (err: Error) => {
      assert.ok(err instanceof ConfigurationError);
      assert.match(err.message, /field "deletes\.onGuardTrip\.await": must be a duration .* \(got "10 fortnights"\)/);
      return true;
    });
    assert.equal(defineStream(options({ await: '2h' })).resolved.plan.deletes.awaitApprovalMs, 7_200_000);
    assert.equal(defineStream(options('skip')).resolved.plan.deletes.awaitApprovalMs, undefined);
  });

  it('dry run: exact counts and sample keys; writes nothing', async () => {
    const { pool } = h.db;
    await seedCustomers(pool, 'src_customers_dry', 30);
    assert.equal((await h.run({ stream: name('dry') })).status, 'succeeded');
    // 3 updated, 4 new, 2 gone from the source, 1 invalid (schema), 20 unchanged
    await pool.query(`update src_customers_dry set name = name || ' (moved)', updated_at = clock_timestamp() where id in (3, 9, 27)`);
    await seedCustomers(pool, 'src_customers_dry', 4, 101);
    await pool.query(`delete from src_customers_dry where id in (5, 6)`);
    await pool.query(`update src_customers_dry set email = 'not-an-email', updated_at = clock_timestamp() where id = 12`);
    const before = await footprint('dry');

    const full = await ferry(['run', name('dry'), '--dry-run', '--full', '--json']);
    assert.equal(full.code, 0, full.stderr);
    const f = JSON.parse(full.stdout) as DryRunOutput;
    assert.equal(f.mode, 'full');
    assert.equal(f.records, 32);
    assert.deepEqual(f.counts, { created: 4, updated: 3, skipped: 24, deleted: 2, failed: 1 });
    assert.deepEqual([...f.samples.created].sort(), keys([101, 102, 103, 104]));
    assert.deepEqual([...f.samples.updated].sort(), keys([3, 9, 27]));
    assert.deepEqual([...f.samples.deleted].sort(), keys([5, 6]));
    assert.deepEqual(f.samples.failed, [key(12)]);
    assert.equal(f.samples.skipped.length, 5);
    assert.deepEqual(f.deletes, { mode: 'mirror', known: 30, unseen: 2, share: 2 / 30, guardTrips: false, awaitsApproval: false });

    const incremental = await ferry(['run', name('dry'), '--dry-run']);
    assert.equal(incremental.code, 0, incremental.stderr);
    assert.match(incremental.stdout, /dry run \(incremental after \{.*"value":"2026-01-01 00:00:00.00003\+00".*\}\), 8 records/);
    assert.match(incremental.stdout, /would: created 4, updated 3, skipped 0, deleted 0, failed 1/);
    assert.match(incremental.stdout, /nothing was written/);

    assert.deepEqual(await footprint('dry'), before, 'target, bindings, checkpoint, dead letters, runs and staging unchanged');
    // a real run afterwards does what the dry run said
    const real = await h.run({ stream: name('dry'), full: true });
    assert.deepEqual(real.counts, { created: 4, updated: 3, skipped: 24, deleted: 2, failed: 1 });
  });

  it('reset --to: a plan first; applied with --yes, the next run re-reads from that time', async () => {
    const { pool } = h.db;
    await seedCustomers(pool, 'src_customers_reset', 20);
    // row i changed at 00:i minutes
    await pool.query(`update src_customers_reset set updated_at = timestamptz '2026-01-01 00:00:00+00' + id * interval '1 minute'`);
    assert.equal((await h.run({ stream: name('reset') })).counts.created, 20);
    const checkpoint = async () => (await pool.query(`select cursor from ferry_checkpoints where stream = $1`, [name('reset')])).rows[0]?.cursor as unknown;
    const was = await checkpoint();

    const plan = await ferry(['reset', name('reset'), '--to', '2026-01-01T00:11:00Z']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /checkpoint now: +\{"key":\["20"\],"value":"2026-01-01 00:20:00\+00"\}/);
    assert.match(plan.stdout, /checkpoint after: \{"value":"2026-01-01 00:10:59.999999\+00","key":\["20"\]\}/);
    assert.match(plan.stdout, /source rows after it: 10 \(after the current checkpoint: 0\)/);
    assert.match(plan.stdout, /not applied \(add --yes to apply\)/);
    assert.deepEqual(await checkpoint(), was, 'a plan changes nothing');

    const cursor = JSON.stringify({ value: '2026-01-01 00:15:00+00', key: ['15'] });
    const byCursor = await ferry(['reset', name('reset'), '--to', cursor, '--json']);
    assert.equal(byCursor.code, 0, byCursor.stderr);
    assert.equal(JSON.parse(byCursor.stdout).rowsAfterNext.rows, 5);

    const bad = await ferry(['reset', name('reset'), '--to', 'last tuesday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to "last tuesday": neither a time .* nor a JSON cursor/);

    const applied = await ferry(['reset', name('reset'), '--to', '2026-01-01T00:11:00Z', '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /checkpoint set/);
    assert.deepEqual(await checkpoint(), { value: '2026-01-01 00:10:59.999999+00', key: ['20'] });
    const rerun = await h.run({ stream: name('reset') });
    assert.equal(rerun.records, 10, 'rows 11..20 read again');
    assert.equal(rerun.counts.skipped, 10, 'unchanged versions are skipped');
    assert.deepEqual(await checkpoint(), was, 'and the checkpoint is back at the newest row');
  });

  /** 10 rows synced, then 6 gone from the source: a full run trips the 50% guard. */
  async function tripGuard(c: OpsCase) {
    const { pool } = h.db;
    await seedCustomers(pool, `src_customers_${c}`, 10);
    assert.equal((await h.run({ stream: name(c), full: true })).status, 'succeeded');
    await pool.query(`delete from src_customers_${c} where id > 4`);
    return h.start({ stream: name(c), full: true });
  }

  /** Waits until the run asks for a decision (the query; the CLI is asked once, below). */
  async function awaitingApproval(handle: Awaited<ReturnType<typeof tripGuard>>) {
    return waitFor('the run awaiting approval', async () => (await handle.query(deleteApprovalQuery).catch(() => null)) ?? undefined, 60_000, 200);
  }

  it('approve: a run above the guard waits, shows what it would delete, and deletes once approved', async () => {
    const handle = await tripGuard('approve');
    const pending = await awaitingApproval(handle);
    const { stdout: status } = await ferry(['status', name('approve')]);
    assert.match(status, /awaiting approval: mirror-delete would delete 6 of 10 known records \(60%; guard 50%\)/);
    assert.match(status, /running now: awaiting approval/);
    assert.match(status, /ferry approve .*\.approve \| ferry reject/);
    assert.equal(pending.share, 0.6);
    assert.deepEqual([...pending.sample].sort(), keys([5, 6, 7, 8, 9, 10]));
    // what the Web UI shows as the run's current details
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /\*\*awaiting approval\*\* — mirror-delete would delete 6 of 10 known records/);

    const metrics = new FerryMetrics({ db: state, streams: [{ name: name('approve') }], logger: pino({ level: 'silent' }), defaultMetrics: false });
    assert.match(await metrics.metrics(), new RegExp(`${METRIC.awaitingApproval}\\{stream="${name('approve').replace(/\./g, '\\.')}"\\} 0\\.6`));

    const approved = await ferry(['approve', name('approve'), '--by', 'alice']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approved — run .* deletes 6 of 10 records \(60%\)/);
    const summary = (await handle.result()) as RunSummary;
    assert.equal(summary.counts.deleted, 6);
    assert.match(summary.message ?? '', /approved by alice: 6 deleted/);
    assert.deepEqual(await targetRows(h.db.pool, 'dst_customers_approve'), (await sourceRows(h.db.pool, 'src_customers_approve')).map((r) => r));
    assert.match(await metrics.metrics(), new RegExp(`${METRIC.awaitingApproval}\\{stream="[^"]+"\\} 0\n`), 'back to 0 once decided');
    const again = await ferry(['approve', name('approve')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not awaiting approval/);
  });

  it('reject: the run skips the delete and ends with a warning', async () => {
    const handle = await tripGuard('reject');
    await awaitingApproval(handle);
    const rejected = await ferry(['reject', name('reject'), '--by', 'bob']);
    assert.equal(rejected.code, 0, rejected.stderr);
    const summary = (await handle.result()) as RunSummary;
    assert.equal(summary.status, 'warning');
    assert.equal(summary.counts.deleted, 0);
    assert.match(summary.message ?? '', /mirror-delete skipped, rejected by bob: 6 of 10 known records \(60%\)/);
    assert.equal((await targetRows(h.db.pool, 'dst_customers_reject')).length, 10);
  });

  it('no answer within the declared time: skipped as without approval', async () => {
    const handle = await tripGuard('timeout');
    const started = Date.now();
    const summary = (await handle.result()) as RunSummary;
    assert.equal(summary.status, 'warning');
    assert.equal(summary.counts.deleted, 0);
    assert.match(summary.message ?? '', /mirror-delete skipped, not approved within 2s/);
    assert.ok(Date.now() - started >= 2_000, 'it waited');
    assert.equal((await targetRows(h.db.pool, 'dst_customers_timeout')).length, 10);
  });
});
