// What the contract lets a connector be without an engine change: a source
// that is incremental with no cursor column (its own checkpoint shape) and
// reads its lag from it; keys that are nested fields of the record; a source
// that cannot read a complete pass refused a --full run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { lagOf } from '../src/cli/stream-status.js';
import { defineStream } from '../src/config/define-stream.js';
import type { Source } from '../src/connectors/source.js';
import { getCheckpoint } from '../src/state/checkpoints.js';
import { readStreamStates } from '../src/metrics/stream-state.js';
import { customerTarget } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';
import { memorySource } from './support/memory-source.js';

/** Order lines as an API returns them: the customer nested, the line's change time in `changed`. */
const line = (customer: string, no: number, changed: string, name = `line ${no}`) => ({ customer: { id: customer, name: `Customer ${customer}` }, no, changed, name });

const lineSchema = z.object({ customer: z.object({ id: z.string() }), no: z.number(), changed: z.string(), name: z.string() });

/**
 * An API-like source over an array: incremental by an `updated_since` time
 * (no column, no key tie-breaker in its checkpoint), which also tells the lag.
 */
function updatedSinceSource(records: ReturnType<typeof line>[], snapshot = true): Source {
  const inner = memorySource('orders-api', records);
  return {
    ...inner,
    capabilities: { incremental: true, snapshot, lookBack: false },
    async fetch(request) {
      const since = (request.after as { updatedSince?: string } | null)?.updatedSince ?? '';
      const rows = records.filter((r) => r.changed > since).sort((a, b) => a.changed.localeCompare(b.changed));
      const last = rows.at(-1);
      return { rows, next: last ? { updatedSince: last.changed } : request.after, done: true };
    },
    lag(checkpoint, now) {
      const since = (checkpoint as { updatedSince?: string } | null)?.updatedSince;
      return since ? Math.max(0, (now.getTime() - Date.parse(since)) / 1000) : null;
    },
  };
}

describe('the connector contract', () => {
  let h: Harness;
  let target: string;
  before(async () => {
    h = await createHarness('contract');
    target = 'dst_lines';
    await h.db.pool.query(`create table ${target} (id bigserial primary key, customer_id text not null, line_no int not null, name text not null, unique (customer_id, line_no))`);
  });
  after(() => h.close());

  it('a nested composite key, an incremental source without a cursor column, its lag read from its own checkpoint', async () => {
    const bad = { customer: { name: 'no id' }, no: 9, changed: '2026-01-01T00:00:04.000Z', name: 'keyless' } as unknown as ReturnType<typeof line>;
    const records = [line('c1', 1, '2026-01-01T00:00:01.000Z'), line('c1', 2, '2026-01-01T00:00:02.000Z'), line('c2', 1, '2026-01-01T00:00:03.000Z'), bad];
    const source = updatedSinceSource(records);
    const stream = h.name('contract.lines');
    const definition = defineStream({
      name: stream,
      source,
      schema: lineSchema,
      map: (l) => ({ kind: 'line', fields: { customer_id: l.customer.id, line_no: l.no, name: l.name } }),
      target: customerTarget(h.db.url, target, { key: ['customer_id', 'line_no'] }),
      key: ['customer.id', 'no'],
      version: 'changed',
      retry: { maximumAttempts: 2, initialInterval: '100ms' },
    });
    assert.equal(definition.resolved.plan.incremental, true, 'incremental by capability, with no cursor column');
    const ferry = await h.startWorker([definition]);

    const first = await h.run({ stream });
    assert.equal(first.mode, 'incremental');
    assert.deepEqual({ ...first.counts }, { created: 3, updated: 0, skipped: 0, deleted: 0, failed: 1 });
    const bindings = await h.db.pool.query<{ record_key: string; version: string }>(`select record_key, version from ferry_bindings where stream = $1 order by record_key`, [stream]);
    assert.deepEqual(bindings.rows.map((b) => [b.record_key, b.version]), [
      ['["c1","1"]', '2026-01-01T00:00:01.000Z'],
      ['["c1","2"]', '2026-01-01T00:00:02.000Z'],
      ['["c2","1"]', '2026-01-01T00:00:03.000Z'],
    ]);
    const letters = await h.db.pool.query<{ issues: { path: string; message: string }[] }>(`select issues from ferry_dead_letters where stream = $1`, [stream]);
    assert.deepEqual(letters.rows[0]?.issues, [{ path: 'customer.id', message: 'key field is missing' }], 'the missing nested key field is named');

    // the checkpoint is the source's own shape; status and metrics read the lag through the source
    const checkpoint = await getCheckpoint(ferry.db, stream);
    assert.deepEqual(checkpoint?.cursor, { updatedSince: '2026-01-01T00:00:04.000Z' });
    const now = Date.parse('2026-01-01T00:01:04.000Z');
    assert.deepEqual(lagOf(definition.resolved, checkpoint, now), { seconds: 60, since: new Date('2026-01-01T00:00:04.000Z'), basis: 'cursor' });
    const [state] = await readStreamStates(ferry.db, [{ name: stream, lag: (c, at) => source.lag(c, at) }]);
    assert.equal(state?.lagBasis, 'cursor');
    assert.equal(state?.syncedUpTo?.toISOString(), '2026-01-01T00:00:04.000Z');

    // a change after the checkpoint: only it is read, and written as an update
    records.push(line('c1', 2, '2026-01-01T00:00:05.000Z', 'line 2 changed'));
    const second = await h.run({ stream });
    assert.deepEqual({ ...second.counts }, { created: 0, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    const rows = await h.db.pool.query(`select customer_id, line_no, name from ${target} order by customer_id, line_no`);
    assert.deepEqual(rows.rows, [
      { customer_id: 'c1', line_no: 1, name: 'line 1' },
      { customer_id: 'c1', line_no: 2, name: 'line 2 changed' },
      { customer_id: 'c2', line_no: 1, name: 'line 1' },
    ]);
  });

  it('a source that cannot read a complete pass: --full fails at once, mirror deletes refused at config time', async () => {
    const source = updatedSinceSource([line('c9', 1, '2026-01-01T00:00:01.000Z')], false);
    const options = {
      name: h.name('contract.feed'),
      source,
      schema: lineSchema,
      map: (l: z.output<typeof lineSchema>) => ({ kind: 'line', fields: { customer_id: l.customer.id, line_no: l.no, name: l.name } }),
      target: customerTarget(h.db.url, target, { key: ['customer_id', 'line_no'] }),
      key: ['customer.id', 'no'],
    };
    assert.throws(() => defineStream({ ...options, deletes: 'mirror' }), /field "deletes": 'mirror' deletes what a complete pass did not see, and source system "orders-api" cannot read a complete pass/);
    await h.startWorker([defineStream(options)]);
    await assert.rejects(h.run({ stream: options.name, full: true }), /Workflow execution failed/);
    const run = await h.db.pool.query(`select status, error from ferry_runs where stream = $1`, [options.name]);
    assert.equal(run.rows.length, 1);
    assert.equal(run.rows[0].status, 'failed');
    assert.match(run.rows[0].error, /source system "orders-api" cannot read a complete pass \(run it without --full\)/);
    const incremental = await h.run({ stream: options.name });
    assert.equal(incremental.counts.created, 1, 'an incremental run works');
  });
});
