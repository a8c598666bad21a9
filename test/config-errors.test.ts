// Configuration errors (ARCHITECTURE.md, guarantee 6): caught at definition
// when possible, otherwise failing the run at once, without retries, with a
// run row saying why; and the CLI's exit codes and machine-readable output.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream, type StreamOptions } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { DATABASE_BATCH_SIZE } from '../src/connectors/source.js';
import { ConfigurationError } from '../src/core/errors.js';
import type { RunSummary } from '../src/workflows/contracts.js';
import { runCli } from './support/cli.js';
import { createCustomerTables, customerSchema, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories } from './support/history.js';

const url = 'postgres://postgres@127.0.0.1:5432/never_connected';

function options(overrides: Record<string, unknown>): StreamOptions<typeof customerSchema> {
  return {
    name: 'cfg.customers',
    source: postgresSource({ url, table: 'src', system: 'crm', cursor: { column: 'updated_at', kind: 'timestamp' } }),
    schema: customerSchema,
    target: postgresTarget({ url, table: 'dst', key: 'customer_id', system: 'app' }),
    key: 'id',
    ...overrides,
  } as StreamOptions<typeof customerSchema>;
}

function refused(overrides: Record<string, unknown>, message: RegExp): void {
  assert.throws(
    () => defineStream(options(overrides)),
    (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, `a ConfigurationError, not ${String(err)}`);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('configuration errors', () => {
  describe('defineStream names the stream and the field at fault', () => {
    it('batchSize', () => {
      refused({ batchSize: 0 }, /^stream "cfg\.customers": field "batchSize": .*>=1 \(got 0\)$/);
      refused({ batchSize: 2.5 }, /^stream "cfg\.customers": field "batchSize": .*expected int\b/);
      refused({ batchSize: '10' }, /^stream "cfg\.customers": field "batchSize": .*number/);
    });
    it('timeouts and retry intervals: one duration grammar, checked here and not inside a workflow', () => {
      refused({ timeouts: { activity: '10 fortnights' } }, /^stream "cfg\.customers": field "timeouts\.activity": must be a duration such as '30s'.* \(got "10 fortnights"\)$/);
      refused({ retry: { initialInterval: 'soon' } }, /^stream "cfg\.customers": field "retry\.initialInterval": must be a duration/);
    });
    it('key', () => {
      refused({ key: 'bad key' }, /^stream "cfg\.customers": field "key": must be a field name, or a dotted path/);
      refused({ key: 'a" --' }, /^stream "cfg\.customers": field "key": must be a field name.* \(got "a\\" --"\)$/);
      refused({ key: [] }, /^stream "cfg\.customers": field "key"/);
      refused({ key: ['id', 'customer..id'] }, /^stream "cfg\.customers": field "key\.1": must be a field name, or a dotted path/);
      assert.deepEqual(defineStream(options({ key: ['customer.id', 'line'] })).resolved.shape.key, ['customer.id', 'line'], 'a nested key path is fine');
    });
    it('schema', () => {
      refused({ schema: undefined }, /^stream "cfg\.customers": field "schema": must be a zod schema/);
      refused({ schema: { parse: () => ({}) } }, /^stream "cfg\.customers": field "schema": must be a zod schema/);
    });
    it('cursor and lookBack moved to the source: the error says what to write', () => {
      refused(
        { cursor: { strategy: 'timestamp', column: 'updated_at' }, lookBack: '10 minutes' },
        /^stream "cfg\.customers": field "cursor": cursor and lookBack moved from the stream to its source, which owns its cursor \(give them to the source, e\.g\. postgresSource\(\{ url, table, system, cursor: \{ column: 'updated_at', kind: 'timestamp' \}, lookBack: "10 minutes" \}\)\)$/,
      );
      refused({ lookBack: 5 }, /^stream "cfg\.customers": field "lookBack": lookBack moved from the stream to its source/);
      refused({ cursor: { strategy: 'none' } }, /field "cursor": cursor moved .*\(remove it: a snapshot source needs neither\)/);
    });
    it('the source checks its own cursor and look-back', () => {
      const source = (o: Record<string, unknown>) => () => postgresSource({ url, table: 'src', system: 'crm', ...o });
      assert.throws(source({ lookBack: '10 minutes' }), /postgresSource\(\{ table: "src" \}\): field "lookBack": needs a cursor/);
      assert.throws(source({ cursor: { column: 'updated_at', kind: 'timestamp' }, lookBack: 5 }), /field "lookBack": a timestamp cursor needs an interval such as '10 minutes'/);
      assert.throws(source({ cursor: { column: 'seq', kind: 'sequence' }, lookBack: '1 hour' }), /field "lookBack": a sequence cursor needs a whole number/);
      assert.throws(source({ cursor: { column: 'seq', kind: 'serial' } }), /field "cursor\.kind": must be one of timestamp, sequence, version/);
      assert.throws(source({ cursor: { column: 'x; drop', kind: 'sequence' } }), /source cursor column "x; drop" is not a valid identifier/);
      const incremental = postgresSource({ url, table: 'src', system: 'crm', cursor: { column: 'seq', kind: 'sequence' }, lookBack: 100 });
      assert.deepEqual(incremental.capabilities, { incremental: true, snapshot: true, lookBack: true, batchSize: DATABASE_BATCH_SIZE });
      assert.deepEqual(postgresSource({ url, table: 'src', system: 'crm' }).capabilities, { incremental: false, snapshot: true, lookBack: false, batchSize: DATABASE_BATCH_SIZE });
      assert.equal(defineStream(options({ source: postgresSource({ url, table: 'src', system: 'crm' }) })).resolved.plan.incremental, false, 'no cursor: every run is a complete pass');
    });
    it('system is required on the source and the target', () => {
      const noSystem = (o: object) => o as never;
      refused(
        { source: postgresSource(noSystem({ url, table: 'src' })) },
        /^stream "cfg\.customers": field "source\.system": is required: name the system the records come from \(e\.g\. 'crm', '1c'\), not the database product \(write postgresSource\(\{ url, table, system: 'crm' \}\)\)/,
      );
      refused({ target: postgresTarget(noSystem({ url, table: 'dst', key: 'customer_id' })) }, /^stream "cfg\.customers": field "target\.system": is required: name the system the records go to/);
      refused({ target: postgresTarget(noSystem({ url, table: 'dst', key: 'customer_id', system: '' })) }, /field "target\.system": "" is not a system name/);
    });
    it('capabilities: deletes need a target that deletes, a target must be idempotent', () => {
      const inner = postgresTarget({ url, table: 'dst', key: 'customer_id', system: 'app' });
      const noDelete = { system: 'feed', capabilities: { ...inner.capabilities, delete: false as const }, check: () => inner.check(), upsert: inner.upsert.bind(inner), close: () => inner.close() };
      for (const deletes of ['mirror', 'replace', { mode: 'mirror', maxDeleteFraction: 0.2 }]) {
        refused({ target: noDelete, deletes }, /^stream "cfg\.customers": field "deletes": '(mirror|replace)' needs a target that can delete, and target system "feed" cannot/);
      }
      assert.doesNotThrow(() => defineStream(options({ target: noDelete, deletes: 'none' })));
      refused({ target: { ...noDelete, capabilities: { ...noDelete.capabilities, idempotent: false } } }, /^stream "cfg\.customers": target system "feed" is not idempotent by key/);
      refused({ target: { ...noDelete, capabilities: { ...noDelete.capabilities, batchLimit: 0 } } }, /field "target\.capabilities\.batchLimit": 0 is not a positive integer/);
      refused({ target: { ...noDelete, capabilities: undefined } }, /field "target\.capabilities": the target declares no capabilities/);
    });
    it('other fields', () => {
      refused({ name: 'has space' }, /^stream "has space": field "name"/);
      refused({ deletes: { mode: 'mirror', maxDeleteFraction: 2 } }, /^stream "cfg\.customers": field "deletes/);
      refused({ source: {} }, /^stream "cfg\.customers": field "source": must be an object with check\(\), fetch\(\), lag\(\), close\(\)/);
    });
  });

  describe('table and column names are identifiers, never SQL', () => {
    const injections = ['x; drop table y', 'public.x; drop table y', 'x"; drop table y; --', 'a.b.c', ''];
    for (const table of injections) {
      it(`source and target refuse table ${JSON.stringify(table)}`, () => {
        assert.throws(() => postgresSource({ url, table, system: 'crm' }), (err: unknown) => err instanceof ConfigurationError && /^source table ".*" is not a valid (identifier|table name)/.test(err.message));
        assert.throws(() => postgresTarget({ url, table, key: 'id', system: 'app' }), (err: unknown) => err instanceof ConfigurationError && /^target table ".*" is not a valid (identifier|table name)/.test(err.message));
      });
    }
    it('source columns and target key, id and soft-delete columns too', () => {
      assert.throws(() => postgresSource({ url, table: 'src', system: 'crm', columns: ['id', 'name; drop table y'] }), /source column "name; drop table y" is not a valid identifier/);
      assert.throws(() => postgresTarget({ url, table: 'dst', system: 'app', key: 'id) do nothing; --' }), /target key column "id\) do nothing; --" is not a valid identifier/);
      assert.throws(() => postgresTarget({ url, table: 'dst', system: 'app', key: 'id', idColumn: 'id, 1' }), /target id column "id, 1" is not a valid identifier/);
      assert.throws(() => postgresTarget({ url, table: 'dst', system: 'app', key: 'id', softDelete: { column: 'x = now(); --' } }), /soft-delete column "x = now\(\); --" is not a valid identifier/);
    });
    it('a schema-qualified name is fine', () => {
      assert.doesNotThrow(() => postgresSource({ url, table: 'public.src', system: 'crm' }));
      assert.doesNotThrow(() => postgresTarget({ url, table: 'public.dst', key: 'customer_id', system: 'app' }));
    });
  });

  describe('against real systems', () => {
    let h: Harness;
    let tables: { source: string; target: string };
    const streams: Record<'good' | 'noTable' | 'noColumn' | 'noTarget', string> = {} as never;

    before(async () => {
      h = await createHarness('configerrors');
      tables = await createCustomerTables(h.db.pool);
      streams.good = h.name('cfg.good');
      streams.noTable = h.name('cfg.no-table');
      streams.noColumn = h.name('cfg.no-column');
      streams.noTarget = h.name('cfg.no-target');
      await h.startWorker([
        customerStream(streams.good, h.db.url, tables),
        customerStream(streams.noTable, h.db.url, { source: 'no_such_table', target: tables.target }),
        customerStream(streams.noColumn, h.db.url, tables, { sourceOptions: { cursor: { column: 'changed_at', kind: 'timestamp' } } }),
        customerStream(streams.noTarget, h.db.url, { source: tables.source, target: 'no_such_target' }),
      ]);
    });
    after(() => h.close());

    const cases = [
      ['noTable', /source table "no_such_table": relation "no_such_table" does not exist/],
      ['noColumn', /stream "[^"]+": source table "src_customers" has no column "changed_at"/],
      ['noTarget', /target table "no_such_target": relation "no_such_target" does not exist/],
    ] as const;
    for (const [which, error] of cases) {
      it(`a stream with a missing ${which === 'noColumn' ? 'cursor column' : which === 'noTable' ? 'source table' : 'target table'} fails at once, with a run row, trying once`, async () => {
        const stream = streams[which];
        const started = Date.now();
        await assert.rejects(h.run({ stream }), (err: Error) => {
          assert.match(String((err.cause as Error | undefined)?.message), error);
          return true;
        });
        const took = Date.now() - started;
        // beginRun's retry policy waits 1s, 2s, 4s...: a retried ConfigurationError would take far longer
        assert.ok(took < 5_000, `failed after ${took} ms`);
        const histories = await chainHistories(h.client, stream);
        assert.deepEqual(activityAttempts(histories, 'beginRun'), [1]);
        assert.deepEqual(activityAttempts(histories, 'prepareBatch'), []);

        const { rows } = await h.db.pool.query(`select status, error, batches, created, failed, finished_at is not null as finished from ferry_runs where stream = $1`, [stream]);
        assert.equal(rows.length, 1, 'the failed run left a run row');
        assert.equal(rows[0].status, 'failed');
        assert.match(rows[0].error, error);
        assert.deepEqual({ ...rows[0], error: undefined }, { status: 'failed', error: undefined, batches: 0, created: 0, failed: 0, finished: true });
      });
    }

    it('CLI: ferry run of an unknown stream exits 2 and names the known ones', async () => {
      const cli = await runCli(h, ['run', 'unknown-stream'], streams.good, tables);
      assert.equal(cli.code, 2, cli.stderr);
      assert.match(cli.stderr, /unknown stream "unknown-stream"/);
      assert.ok(cli.stderr.includes(streams.good), cli.stderr);
      const runs = await h.db.pool.query(`select 1 from ferry_runs where stream = 'unknown-stream'`);
      assert.equal(runs.rowCount, 0);
    });

    it('CLI: a run that fails exits 4 and says why', async () => {
      const cli = await runCli(h, ['run', streams.noTable, '--wait'], streams.noTable, { source: 'no_such_table', target: tables.target });
      assert.equal(cli.code, 4, cli.stderr);
      assert.match(cli.stderr, /failed — .*relation "no_such_table" does not exist/);
    });

    it('CLI: run --wait --json prints the summary, status --json the run, checkpoint and dead letters, reset clears the checkpoint', async () => {
      await seedCustomers(h.db.pool, tables.source, 25);
      await h.db.pool.query(`update ${tables.source} set email = 'broken' where id = 4`);

      const run = await runCli(h, ['run', streams.good, '--wait', '--json'], streams.good, tables);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as RunSummary;
      assert.deepEqual(
        { ...summary, runId: typeof summary.runId },
        { runId: 'string', stream: streams.good, mode: 'incremental', status: 'succeeded', batches: 3, records: 25, counts: { created: 24, updated: 0, skipped: 0, deleted: 0, failed: 1 } },
      );
      assert.deepEqual(await targetRows(h.db.pool, tables.target), (await sourceRows(h.db.pool, tables.source)).filter((r) => !r.startsWith('4|')));

      const status = await runCli(h, ['status', streams.good, '--json'], streams.good, tables);
      assert.equal(status.code, 0, status.stderr);
      const report = JSON.parse(status.stdout) as { stream: string; checkpoint: { cursor: unknown; runId: string } | null; deadLetters: number; runs: Record<string, unknown>[] }[];
      assert.equal(report.length, 1);
      const [s] = report as [(typeof report)[number]];
      assert.equal(s.stream, streams.good);
      assert.equal(s.deadLetters, 1);
      const last = (await h.db.pool.query(`select updated_at::text as v from ${tables.source} where id = 25`)).rows[0].v;
      assert.deepEqual(s.checkpoint?.cursor, { value: last, key: ['25'] });
      assert.equal(s.checkpoint?.runId, summary.runId);
      assert.equal(s.runs.length, 1);
      assert.deepEqual(
        { id: s.runs[0]?.id, status: s.runs[0]?.status, mode: s.runs[0]?.mode, created: s.runs[0]?.created, failed: s.runs[0]?.failed, batches: s.runs[0]?.batches },
        { id: summary.runId, status: 'succeeded', mode: 'incremental', created: 24, failed: 1, batches: 3 },
      );

      const reset = await runCli(h, ['reset', streams.good], streams.good, tables);
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stdout, /checkpoint removed/);
      assert.equal((await h.db.pool.query(`select 1 from ferry_checkpoints where stream = $1`, [streams.good])).rowCount, 0);

      // from the start again: bindings remain, so everything is skipped (and the broken row fails again)
      const again = await h.run({ stream: streams.good });
      assert.equal(again.records, 25);
      assert.deepEqual({ ...again.counts }, { created: 0, updated: 0, skipped: 24, deleted: 0, failed: 1 });
    });
  });
});
