// "Export now" (issue #9): one call from the site's code runs the stream at
// once; calls made while a run is in progress (started by anyone: the CLI, a
// schedule, an earlier call) coalesce into one more run after it, which picks
// up what changed meanwhile. Real workflows on a real Temporal dev server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { exportNow } from '../src/links/export-now.js';
import type { RunSoonResult } from '../src/workflows/run-soon.js';
import type { Source } from '../src/connectors/source.js';
import { forwardSource } from './support/forward.js';
import { createGates } from './support/gates.js';
import { createHarness, type Harness } from './support/harness.js';

/** A source whose page n, once read, waits at a gate: what is inserted meanwhile is not in that run. */
function heldAfterRead(inner: Source) {
  const gates = createGates();
  let fetches = 0;
  const source: Source = {
    ...forwardSource(inner),
    async fetch(request) {
      const page = await inner.fetch(request);
      await gates.pass(fetches++);
      return page;
    },
  };
  return { source, holdNext: () => gates.hold(fetches) };
}

describe('export now', () => {
  let h: Harness;
  let held: ReturnType<typeof heldAfterRead>;
  let stream: string;

  before(async () => {
    h = await createHarness('links_export_now');
    await h.db.pool.query(`
      create table signups (id serial primary key, email text not null, updated_at timestamptz not null default clock_timestamp());
      create table signups_in_1c (id integer primary key, email text not null);`);
    stream = h.name('signups');
    held = heldAfterRead(postgresSource({ url: h.db.url, table: 'signups', system: 'site', cursor: { column: 'updated_at', kind: 'timestamp' } }));
    await h.startWorker([
      defineStream({
        name: stream,
        source: held.source,
        schema: z.object({ id: z.number(), email: z.string() }).passthrough(),
        map: (r) => ({ kind: 'customer', fields: { id: r.id, email: r.email } }),
        target: postgresTarget({ url: h.db.url, table: 'signups_in_1c', key: 'id', system: '1c' }),
        key: 'id',
      }),
    ]);
  });
  after(() => h.close());

  const register = (email: string) => h.db.pool.query(`insert into signups (email) values ($1)`, [email]);
  const exported = async () => (await h.db.pool.query<{ email: string }>(`select email from signups_in_1c order by id`)).rows.map((r) => r.email);
  const runRows = async () => (await h.db.pool.query(`select count(*)::int as n from ferry_runs where stream = $1`, [stream])).rows[0].n as number;
  const finished = (workflowId: string) => h.client.workflow.getHandle(workflowId).result() as Promise<RunSoonResult>;

  it('with nothing running, one call runs the stream at once', async () => {
    await register('first@example.com');
    const { workflowId } = await exportNow(h.client, stream, { taskQueue: h.settings.taskQueue });
    const result = await finished(workflowId);
    assert.equal(result.runs.length, 1);
    assert.equal(result.requests, 1);
    assert.deepEqual(await exported(), ['first@example.com']);
    assert.equal(await runRows(), 1);
  });

  it('calls during a run in progress coalesce into one run after it, which exports what came meanwhile', async () => {
    // A run started elsewhere (as the CLI or a schedule would) is held after reading its first page.
    const gate = held.holdNext();
    const busy = await h.start({ stream });
    await gate.reached;
    await register('second@example.com');
    const calls = await Promise.all([1, 2, 3].map(() => exportNow(h.client, stream, { taskQueue: h.settings.taskQueue })));
    assert.equal(new Set(calls.map((c) => c.runId)).size, 1, 'one run-soon workflow took all three calls');
    gate.release();
    await busy.result();
    assert.deepEqual(await exported(), ['first@example.com'], 'the busy run had read its page before the registration');
    const result = await finished(calls[0]?.workflowId as string);
    assert.equal(result.requests, 3);
    assert.equal(result.runs.length, 1, 'three calls, one run after the busy one');
    assert.deepEqual(await exported(), ['first@example.com', 'second@example.com']);
    assert.equal(await runRows(), 3, 'the first call, the busy run, and one coalesced run');
  });
});
