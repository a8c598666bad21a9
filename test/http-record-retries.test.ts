// The HTTP target's per-record retries (recordRetry) and the engine's write
// progress (a retried upsert attempt does not send again what an earlier
// attempt wrote), against the fault-injecting local API with faults chosen
// per request: real runs on Temporal for the activity's attempts, direct
// calls of the engine's write path (upsertRows) for the measurements. The
// target sends no Idempotency-Key here, so a record sent twice would be
// created twice: the server's create count is the proof of "exactly once".
// The last test SIGKILLs a worker child process mid-batch (that one sends the
// Idempotency-Key, as the re-sent tail past the last heartbeat needs it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { upsertRows } from '../src/activities/target-writes.js';
import { defineStream } from '../src/config/define-stream.js';
import { httpTarget, type HttpTargetOptions } from '../src/connectors/http/target.js';
import type { TargetRow } from '../src/connectors/target.js';
import type { syncStream } from '../src/workflows/sync-stream.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories } from './support/history.js';
import { startFaultServer, type Fault, type FaultServer, type LoggedRequest } from './support/http-fault-server.js';
import { memorySource } from './support/memory-source.js';
import { waitFor, within, workerChildEnv, WorkerChildren } from './support/worker-children.js';

const TRANSIENT: readonly Fault[] = [
  { type: 'status', status: 500 },
  { type: 'status', status: 502 },
  { type: 'status', status: 503 },
  { type: 'status', status: 429 },
  { type: 'reset' },
  { type: 'disconnect' },
];

/** A share of requests failing transiently, decided by (record, how many times it was sent): the same faults whatever the order of requests. */
function faultsAtRate(rate: number, seed: string) {
  const sent = new Map<string, number>();
  return (request: { method: string; body: string }): Fault | undefined => {
    if (request.method !== 'POST') return undefined;
    const id = String((JSON.parse(request.body) as { customer_id: unknown }).customer_id);
    const n = (sent.get(id) ?? 0) + 1;
    sent.set(id, n);
    const h = createHash('sha256').update(`${seed}:${id}:${n}`).digest();
    return h.readUInt32BE(0) / 2 ** 32 < rate ? TRANSIENT[(h[4] as number) % TRANSIENT.length] : undefined;
  };
}

const customerOf = (r: LoggedRequest) => String((JSON.parse(r.body) as { customer_id: unknown }).customer_id);

/** Per record: requests sent, and creates the server applied. */
function perRecord(log: readonly LoggedRequest[], path: string) {
  const posts = log.filter((r) => r.method === 'POST' && r.path === path);
  const sent = new Map<string, number>();
  const created = new Map<string, number>();
  for (const r of posts) {
    const id = customerOf(r);
    sent.set(id, (sent.get(id) ?? 0) + 1);
    if (r.outcome === '201') created.set(id, (created.get(id) ?? 0) + 1);
  }
  return { requests: posts.length, sent, created };
}

const records = (n: number, rejected: readonly number[] = []) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i + 1), name: rejected.includes(i + 1) ? 'REJECT ME' : `Customer ${i + 1}` }));

const rowsOf = (n: number): TargetRow[] =>
  records(n).map((r) => ({ key: [r.id], internalId: null, op: 'create', version: 'v1', projection: { kind: 'person', fields: { customer_id: r.id, name: r.name } } }));

describe('http target: per-record retries, and no re-send after a retried attempt', () => {
  let h: Harness;
  let api: FaultServer;
  before(async () => {
    h = await createHarness('httpretry');
    api = await startFaultServer();
  });
  after(async () => {
    await h.stopWorker();
    await api.close();
    await h.close();
  });

  const target = (path: string, extra: Partial<HttpTargetOptions> = {}) =>
    httpTarget({ baseUrl: api.url, system: 'app', create: { path }, idempotencyHeader: false, concurrency: 4, timeout: '2s', ...extra });

  const stream = (name: string, path: string, n: number, rejected: readonly number[] = []) =>
    defineStream({
      name,
      source: memorySource('crm', records(n, rejected)),
      schema: z.object({ id: z.string(), name: z.string() }),
      map: (c) => ({ kind: 'person', fields: { customer_id: c.id, name: c.name } }),
      target: target(path),
      key: 'id',
      batchSize: n,
      retry: { maximumAttempts: 5, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1s' },
      timeouts: { activity: '2m', heartbeat: '10s' },
    });

  it('recordRetry is checked at declaration', () => {
    assert.throws(() => target('/x', { recordRetry: { maximumAttempts: 0 } }), /field "recordRetry.maximumAttempts": must be a positive integer, got 0/);
    assert.throws(() => target('/x', { recordRetry: { initialInterval: 'soon' } }), /field "recordRetry.initialInterval": "soon" is not a duration/);
  });

  it('measured before: without per-record retries, a batch of 200 at 30% faults does not get through in 10 attempts', async () => {
    const path = '/before';
    api.decide = faultsAtRate(0.3, 'before');
    const old = target(path, { recordRetry: false, idempotencyHeader: 'Idempotency-Key' });
    let attempts = 0;
    let through = false;
    for (; attempts < 10 && !through; attempts += 1) {
      try {
        await upsertRows(old, rowsOf(200), { stream: 'before', runId: 'r' });
        through = true;
      } catch {
        // the activity's retry: every record of the batch again
      }
    }
    api.decide = undefined;
    const { requests, sent } = perRecord(api.log, path);
    console.log(`# before: ${attempts} attempts, through: ${through}, ${requests} requests for ${sent.size} records sent (${(requests / 200).toFixed(2)} per record), ${api.items('before').length} records in B`);
    assert.equal(through, false, 'at 30% faults a batch of 200 practically never goes through whole (0.7^200)');
  });

  it('200 records, 30% of requests failing transiently: one upsert attempt, every record created exactly once, 4xx records dead-lettered without retries', async () => {
    const path = '/people';
    api.decide = faultsAtRate(0.3, 'people');
    const name = h.name('httpretry.rate');
    await h.startWorker([stream(name, path, 200, [50, 150])]);
    const started = Date.now();
    const summary = await h.run({ stream: name });
    const ms = Date.now() - started;
    api.decide = undefined;
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 198, updated: 0, skipped: 0, deleted: 0, failed: 2 });
    const { requests, sent, created } = perRecord(api.log, path);
    assert.equal(api.items('people').length, 198);
    assert.equal(created.size, 198);
    assert.ok([...created.values()].every((c) => c === 1), 'each record created once on the server');
    for (const id of ['50', '150']) {
      const outcomes = api.log.filter((r) => r.method === 'POST' && r.path === path && customerOf(r) === id).map((r) => r.outcome);
      assert.deepEqual(outcomes.filter((o) => o === '422'), ['422'], `record ${id}: refused once`);
      assert.equal(outcomes.at(-1), '422', `record ${id}: not retried after its 422 (${outcomes.join(', ')})`);
    }
    const attempts = activityAttempts(await chainHistories(h.client, name), 'upsertBatch');
    assert.ok(attempts.length === 1 && (attempts[0] as number) <= 2, `upsertBatch attempts: ${attempts.join(', ')}`);
    const faults = api.log.filter((r) => r.path === path && r.outcome !== '201' && r.outcome !== '422').length;
    console.log(`# after: 200 records at 30% faults: ${requests} requests (${(requests / 200).toFixed(2)} per record, ${faults} faults served), max ${Math.max(...sent.values())} for one record, upsertBatch attempts ${attempts.join(', ')}, run ${ms} ms`);
    assert.ok(ms < 60_000, `the run took ${ms} ms`);
    const { rows: letters } = await h.db.pool.query<{ record_key: string }>(`select record_key from ferry_dead_letters where stream = $1 order by record_key`, [name]);
    assert.deepEqual(letters.map((l) => l.record_key), ['["150"]', '["50"]']);
    await h.stopWorker();
  });

  it("a 429 with Retry-After holds back that record's next request by the delay, not the other records", async () => {
    const path = '/limited';
    let served = false;
    api.decide = (r) => {
      if (r.method !== 'POST' || served || customerOf({ body: r.body } as LoggedRequest) !== '5') return undefined;
      served = true;
      return { type: 'status', status: 429, headers: { 'retry-after': '1' } };
    };
    const started = Date.now();
    const result = await upsertRows(target(path), rowsOf(20), { stream: 'limited', runId: 'r' });
    const ms = Date.now() - started;
    api.decide = undefined;
    assert.deepEqual(result.rejected, []);
    assert.equal(new Set(result.ids).size, 20);
    const posts = api.log.filter((r) => r.method === 'POST' && r.path === path);
    const mine = posts.filter((r) => customerOf(r) === '5');
    assert.deepEqual(mine.map((r) => r.outcome), ['429', '201']);
    const gap = (mine[1] as LoggedRequest).at - (mine[0] as LoggedRequest).at;
    assert.ok(gap >= 950 && gap < 3_000, `record 5 re-sent ${gap} ms after its 429 + Retry-After: 1`);
    const others = posts.filter((r) => customerOf(r) !== '5');
    assert.equal(others.length, 19, 'the others sent once each');
    assert.ok(others.every((r) => r.at < (mine[1] as LoggedRequest).at), 'the others did not wait for record 5');
    console.log(`# 429 + Retry-After: 1 on one record: re-sent after ${gap} ms; the call took ${ms} ms`);
  });

  it("a record that keeps failing fails the attempt after its budget; the activity's retry sends only that record", async () => {
    const path = '/stubborn';
    let left = 8; // more than one attempt's budget (6), less than two
    api.decide = (r) => {
      if (r.method !== 'POST' || customerOf({ body: r.body } as LoggedRequest) !== '7' || left === 0) return undefined;
      left -= 1;
      return { type: 'status', status: 503 };
    };
    const name = h.name('httpretry.stubborn');
    await h.startWorker([stream(name, path, 60)]);
    const summary = await h.run({ stream: name });
    api.decide = undefined;
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 60, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(activityAttempts(await chainHistories(h.client, name), 'upsertBatch'), [2], 'the first attempt failed on record 7');
    const { sent, created } = perRecord(api.log, path);
    assert.equal(sent.get('7'), 9, 'record 7: six requests in the first attempt, three in the second');
    assert.deepEqual([...sent.entries()].filter(([id, n]) => id !== '7' && n !== 1), [], 'every other record sent once: not again by the retried attempt');
    assert.ok([...created.values()].every((c) => c === 1) && created.size === 60, 'each created once');
    const { rows: bound } = await h.db.pool.query<{ n: string; ids: string }>(`select count(*) as n, count(distinct internal_id) as ids from ferry_bindings where stream = $1`, [name]);
    assert.deepEqual({ ...bound[0] }, { n: '60', ids: '60' }, "every binding holds B's id, those from the first attempt too");
    const ids = new Set(api.items('stubborn').map((p) => p.id));
    const { rows: all } = await h.db.pool.query<{ internal_id: string }>(`select internal_id from ferry_bindings where stream = $1`, [name]);
    assert.ok(all.every((b) => ids.has(b.internal_id)), "the bindings' ids are the server's");
    console.log(`# a record failing 8 times: upsertBatch attempts 2, requests: record 7 ${sent.get('7')}, the other 59 once each`);
    await h.stopWorker();
  });
  it('a worker SIGKILLed mid-batch: another worker reads the batch again and sends it; each record created once', async (t) => {
    const name = h.name('httpretry.crash');
    const n = 200;
    // ~40 records a second at 4 in flight: the kill lands in the middle of the batch's write
    api.writeLatencyMs = 100;
    const workers = new WorkerChildren(
      workerChildEnv(h, 'httpretry-crash.config.ts', {
        FERRY_HTTPRETRY_STREAM: name,
        FERRY_HTTPRETRY_RECORDS: String(n),
        FERRY_HTTPRETRY_API: api.url,
      }, `${h.settings.taskQueue}-crash`),
      join(repoRoot, '.ferry', `httpretry-crash-workers-${h.db.name}.log`),
    );
    try {
      await workers.start();
      const handle = await h.client.workflow.start<typeof syncStream>('syncStream', { workflowId: name, taskQueue: `${h.settings.taskQueue}-crash`, args: [{ stream: name }] });
      const posts = () => api.log.filter((r) => r.method === 'POST' && r.path === '/crashed');
      await waitFor('three quarters of the batch sent', async () => posts().length >= (n * 3) / 4 || undefined, 90_000, 10);
      await workers.kill();
      const before = new Set(posts().map(customerOf));
      t.diagnostic(`worker SIGKILLed after ${before.size} of ${n} records were sent`);
      await h.client.workflowService.resetStickyTaskQueue({ namespace: h.settings.namespace, execution: { workflowId: name } });
      await workers.start();
      const summary = await within(handle.result(), 120_000, async () => {
        throw new Error('the run did not finish');
      });
      assert.equal(summary.status, 'succeeded');
      assert.deepEqual({ ...summary.counts }, { created: n, updated: 0, skipped: 0, deleted: 0, failed: 0 });
      const { sent, created } = perRecord(api.log, '/crashed');
      assert.equal(created.size, n);
      assert.ok([...created.values()].every((c) => c === 1), 'each record created once (a re-sent one answered from its Idempotency-Key)');
      const resent = [...before].filter((id) => (sent.get(id) ?? 0) > 1).length;
      t.diagnostic(`re-sent after the kill: ${resent} of the ${before.size} sent before the kill`);
      console.log(`# SIGKILL mid-batch: ${before.size} of ${n} sent before the kill, ${resent} of them sent again after the kill`);
      // The killed worker held the batch in memory: the batch is read again by a new upsert (not a retried
      // attempt of the old one), so the old attempt's heartbeat progress does not carry over and what it sent is
      // sent again — harmless, as the Idempotency-Key answers it (docs/connectors.md, HTTP: per-record retries).
      assert.ok(resent > 0, 'the batch was sent again after the kill');
      const { rows } = await h.db.pool.query<{ n: string; ids: string }>(`select count(*) as n, count(distinct internal_id) as ids from ferry_bindings where stream = $1`, [name]);
      assert.deepEqual({ ...rows[0] }, { n: String(n), ids: String(n) });
    } finally {
      api.writeLatencyMs = 0;
      await workers.killAll();
    }
  });
});
