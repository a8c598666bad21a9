// The HTTP connector through real runs (real Temporal, real Postgres) against
// a fault-injecting local API (test/support/http-fault-server.ts):
// HTTP source -> Postgres and Postgres -> HTTP target, each fault retried or
// dead-lettered as specified, the 429's Retry-After honoured, and neither a
// canary record value nor a secret in Temporal history, the run row or the
// dead letters' error text.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { httpSource, type HttpSourceOptions } from '../src/connectors/http/source.js';
import { httpTarget } from '../src/connectors/http/target.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { createCustomerTables, customerSource, seedCustomers } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories, historyText } from './support/history.js';
import { startFaultServer, type FaultServer, type LoggedRequest } from './support/http-fault-server.js';

const SECRET = `SECRET-${randomBytes(6).toString('hex')}`;
const QUERY_SECRET = `QSECRET-${randomBytes(6).toString('hex')}`;
const CANARY = `CANARY-${randomBytes(6).toString('hex')}`;
process.env.FERRY_TEST_HTTP_TOKEN = SECRET;
process.env.FERRY_TEST_HTTP_QUERY_KEY = QUERY_SECRET;

const retry = { maximumAttempts: 10, initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '500ms' };
const at = (tick: number) => new Date(Date.UTC(2026, 0, 1) + tick * 1000).toISOString();

/** Everything a run left where secrets and record data must not be: its Temporal histories and its run rows. */
async function leftBehind(h: Harness, stream: string): Promise<string> {
  const histories = await chainHistories(h.client, stream);
  const { rows } = await h.db.pool.query(`select * from ferry_runs where stream = $1`, [stream]);
  return [...histories.map(historyText), JSON.stringify(rows)].join('\n');
}

/** ms between a request and the next one matching `next` after it. */
function gapAfter(log: readonly LoggedRequest[], first: (r: LoggedRequest) => boolean, next: (r: LoggedRequest, first: LoggedRequest) => boolean): number {
  const i = log.findIndex(first);
  assert.ok(i >= 0, 'the fault was served');
  const f = log[i] as LoggedRequest;
  const later = log.slice(i + 1).find((r) => next(r, f));
  assert.ok(later, 'a retry came after the fault');
  return later.at - f.at;
}

describe('http connector, real runs against a fault-injecting API', () => {
  let h: Harness;
  let api: FaultServer;
  before(async () => {
    h = await createHarness('http');
    api = await startFaultServer();
    api.requireHeaders = { 'x-api-key': SECRET };
  });
  after(async () => {
    await h.stopWorker();
    await api.close();
    await h.close();
  });

  const sourceOptions = (path: string): HttpSourceOptions => ({
    baseUrl: api.url,
    system: 'crm',
    path,
    records: 'data.items',
    pagination: { type: 'link', sizeParam: 'limit' },
    incremental: { param: 'updated_since', field: 'updated_at' },
    secretHeaders: { 'X-Api-Key': 'FERRY_TEST_HTTP_TOKEN' },
    secretQuery: { api_key: 'FERRY_TEST_HTTP_QUERY_KEY' },
    timeout: '500ms',
  });

  const importStream = (name: string, table: string, source = httpSource(sourceOptions('/customers')), attempts = retry.maximumAttempts) =>
    defineStream({
      name,
      source,
      schema: z.object({ id: z.string(), name: z.string(), updated_at: z.string() }),
      map: (r) => ({ kind: 'customer', fields: { record_id: r.id, name: r.name, updated_at: r.updated_at } }),
      target: postgresTarget({ url: h.db.url, table, key: 'record_id', idColumn: 'id', system: 'app' }),
      key: 'id',
      batchSize: 20,
      retry: { ...retry, maximumAttempts: attempts },
      timeouts: { activity: '30s', heartbeat: '10s' },
    });

  it('HTTP source -> Postgres: 5xx, reset, disconnect, timeout, 429 and 503 with Retry-After, malformed JSON are all retried; every record arrives once; the next run reads only what changed', async () => {
    const table = 'http_imported';
    await h.db.pool.query(`create table ${table} (id bigserial primary key, record_id text not null unique, name text not null, updated_at text not null)`);
    // 70 records; 10..40 share one updated_at, so a whole page is ties and the Link header is followed
    api.put('customers', Array.from({ length: 70 }, (_, i) => ({ id: i + 1, name: i === 6 ? `Customer ${CANARY}` : `Customer ${i + 1}`, updated_at: at(i + 1 >= 10 && i + 1 <= 40 ? 10 : i + 1) })));
    const faults = [
      { type: 'status', status: 500 },
      { type: 'reset' },
      { type: 'disconnect' },
      { type: 'slow', ms: 1_500 },
      { type: 'status', status: 429, headers: { 'retry-after': '1' } },
      { type: 'status', status: 503, headers: { 'retry-after': '1' } },
      { type: 'malformed' },
    ] as const;
    for (const fault of faults) api.inject({ method: 'GET', path: '/customers', fault });

    const stream = h.name('http.import');
    await h.startWorker([importStream(stream, table)]);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 70, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    const { rows } = await h.db.pool.query<{ record_id: string; name: string; updated_at: string }>(`select record_id, name, updated_at from ${table} order by record_id::int`);
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      api.items('customers').map((r) => ({ record_id: r.id, name: r.name, updated_at: r.updated_at })).sort((a, b) => Number(a.record_id) - Number(b.record_id)),
    );
    // every fault cost the first fetch one attempt
    const attempts = activityAttempts(await chainHistories(h.client, stream), 'prepareBatch');
    assert.equal(attempts[0], faults.length + 1, `first fetch attempts: ${attempts.join(', ')}`);
    // the server's delay was waited, not the backoff's 100-500 ms
    for (const status of ['429', '503']) {
      const gap = gapAfter(api.log, (r) => r.outcome === status, (r) => r.method === 'GET');
      assert.ok(gap >= 950 && gap < 4_000, `the retry after ${status} + Retry-After: 1 came ${gap} ms later`);
      console.log(`# HTTP source: retry ${gap} ms after ${status} with Retry-After: 1`);
    }
    // the Link header was followed (a page of ties), and the api_key it echoed was not stored
    assert.ok(api.log.some((r) => r.method === 'GET' && r.query.cursor !== undefined), 'a next page by Link');
    assert.ok(api.log.filter((r) => r.method === 'GET').every((r) => r.query.api_key === QUERY_SECRET && r.headers['x-api-key'] === SECRET), 'every request carried the secrets');

    // second run: only what changed (a tie at the checkpoint's time is re-read and skipped, not lost)
    api.put('customers', [
      { id: 71, name: 'Customer 71', updated_at: at(70) },
      { id: 5, name: 'Customer 5 v2', updated_at: at(80) },
    ]);
    const second = await h.run({ stream });
    assert.deepEqual({ ...second.counts }, { created: 1, updated: 1, skipped: 0, deleted: 0, failed: 0 });
    const third = await h.run({ stream });
    assert.deepEqual({ ...third.counts }, { created: 0, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    // the checkpoint: the last change time read and the keys read at it; it tells the lag
    const { rows: checkpoints } = await h.db.pool.query<{ cursor: { since: string; seen: string[] } }>(`select cursor from ferry_checkpoints where stream = $1`, [stream]);
    assert.equal(checkpoints[0]?.cursor.since, at(80));
    assert.deepEqual(checkpoints[0]?.cursor.seen, ['["5"]']);
    const lag = httpSource(sourceOptions('/customers')).lag(checkpoints[0]?.cursor ?? null, new Date(Date.parse(at(80)) + 90_000));
    assert.equal(lag, 90);

    const text = await leftBehind(h, stream);
    assert.ok(text.includes(stream) && text.includes('prepareBatch'), 'the check reads real history');
    for (const secret of [CANARY, SECRET, QUERY_SECRET]) assert.ok(!text.includes(secret), `${secret.split('-')[0]} leaked into history or run rows`);
    await h.stopWorker();
  });

  it('malformed JSON that persists fails the run naming stream, URL (no secrets) and page; a missing records path or secret fails at once', async () => {
    const table = 'http_failing';
    await h.db.pool.query(`create table ${table} (id bigserial primary key, record_id text not null unique, name text not null, updated_at text not null)`);
    const malformed = h.name('http.malformed');
    const missing = h.name('http.missing');
    const unset = h.name('http.unset');
    delete process.env.FERRY_TEST_HTTP_UNSET;
    await h.startWorker([
      importStream(unset, table, httpSource({ ...sourceOptions('/customers'), secretHeaders: { 'X-Api-Key': 'FERRY_TEST_HTTP_UNSET' } })),
      importStream(malformed, table, undefined, 2),
      importStream(missing, table, httpSource({ ...sourceOptions('/customers'), records: 'data.rows' })),
    ]);
    api.inject({ method: 'GET', path: '/customers', fault: { type: 'malformed' }, times: 2 });
    await assert.rejects(h.run({ stream: malformed }));
    await assert.rejects(h.run({ stream: missing }));
    const served = api.log.length;
    await assert.rejects(h.run({ stream: unset }));
    assert.equal(api.log.length, served, 'no request without its secret');
    const { rows } = await h.db.pool.query<{ stream: string; error: string }>(`select stream, error from ferry_runs where stream = any($1) and status = 'failed'`, [[malformed, missing, unset]]);
    const error = (s: string) => rows.find((r) => r.stream === s)?.error ?? '';
    assert.match(error(malformed), new RegExp(`stream "${malformed}": page 1: GET ${api.url}/customers\\?[^ ]*: the response is not valid JSON`));
    assert.match(error(missing), /no records array at "data.rows"/);
    assert.match(error(missing), /page 1/);
    assert.match(error(unset), /secret header "X-Api-Key": environment variable FERRY_TEST_HTTP_UNSET is not set/);
    for (const s of [malformed, missing]) assert.ok(!error(s).includes(QUERY_SECRET) && !error(s).includes(SECRET), 'no secret in the error');
    assert.deepEqual(activityAttempts(await chainHistories(h.client, missing), 'prepareBatch'), [1], 'a configuration error is not retried');
    assert.deepEqual(activityAttempts(await chainHistories(h.client, malformed), 'prepareBatch'), [2]);
    await h.stopWorker();
  });

  it('Postgres -> HTTP target: faults retried without duplicates (Idempotency-Key), a 4xx record dead-lettered with status and body, updates by internal id, deletes, at most `concurrency` requests in flight', async () => {
    const tables = await createCustomerTables(h.db.pool, '_to_http');
    await seedCustomers(h.db.pool, tables.source, 30);
    // the refused record carries a canary too: its dead letter keeps the raw record, but the error text holds only B's answer
    await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME', email = $1 where id = 13`, [`${CANARY}@example.com`]);
    await h.db.pool.query(`update ${tables.source} set name = $1 where id = 7`, [`Customer ${CANARY}`]);
    api.writeLatencyMs = 20;
    api.maxInFlight = 0;
    for (const fault of [{ type: 'status', status: 500 }, { type: 'reset' }, { type: 'disconnect' }, { type: 'slow', ms: 1_500 }, { type: 'status', status: 429, headers: { 'retry-after': '1' } }] as const) {
      api.inject({ method: 'POST', path: '/people', fault });
    }
    const stream = h.name('http.export');
    await h.startWorker([
      defineStream({
        name: stream,
        source: customerSource(h.db.url, tables.source),
        schema: z.object({ id: z.string(), name: z.string(), email: z.string() }),
        map: (c) => ({ kind: 'person', fields: { customer_id: c.id, name: c.name, email: c.email } }),
        target: httpTarget({ baseUrl: api.url, system: 'app', create: { path: '/people' }, secretHeaders: { 'X-Api-Key': 'FERRY_TEST_HTTP_TOKEN' }, concurrency: 3, timeout: '500ms' }),
        key: 'id',
        batchSize: 10,
        deletes: 'mirror',
        retry,
        timeouts: { activity: '30s', heartbeat: '10s' },
      }),
    ]);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 29, updated: 0, skipped: 0, deleted: 0, failed: 1 });
    const people = () => api.items('people').map((p) => `${String(p.customer_id)}|${String(p.name)}`).sort();
    const source = async () => (await h.db.pool.query<{ r: string }>(`select id || '|' || name as r from ${tables.source} where name <> 'REJECT ME'`)).rows.map((x) => x.r).sort();
    assert.deepEqual(people(), await source(), 'every record once: retried creates were not applied twice');
    assert.ok(api.log.some((r) => r.outcome === '201 (replayed)'), 'a retried create was answered from its Idempotency-Key');
    assert.ok(api.maxInFlight <= 3 && api.maxInFlight >= 2, `requests in flight: at most 3, got ${api.maxInFlight}`);
    const keyOf = (r: LoggedRequest) => r.headers['idempotency-key'];
    const gap = gapAfter(api.log, (r) => r.outcome === '429', (r, first) => keyOf(r) === keyOf(first));
    assert.ok(gap >= 950 && gap < 4_000, `the retry after 429 + Retry-After: 1 came ${gap} ms later`);
    console.log(`# HTTP target: same record re-sent ${gap} ms after 429 with Retry-After: 1; max in flight ${api.maxInFlight}`);

    const { rows: letters } = await h.db.pool.query<{ record_key: string; stage: string; error: string }>(`select record_key, stage, error from ferry_dead_letters where stream = $1`, [stream]);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.record_key, '["13"]');
    assert.equal(letters[0]?.stage, 'target');
    assert.match(letters[0]?.error ?? '', /POST http:\/\/127\.0\.0\.1:\d+\/people: HTTP 422 \(status 422\); response: \{"error":"name is refused","field":"name"\}/);
    assert.ok(!(letters[0]?.error ?? '').includes(SECRET), 'no secret in the dead letter');
    assert.ok(!(letters[0]?.error ?? '').includes(CANARY), 'no record data (the request body) in the error text');

    // updates go to PUT /people/{internal id}; a record gone from the source is deleted by its id
    await h.db.pool.query(`update ${tables.source} set name = name || ' v2', updated_at = clock_timestamp() where id in (2, 3)`);
    await h.db.pool.query(`delete from ${tables.source} where id = 30`);
    const before = api.log.length;
    const second = await h.run({ stream, full: true });
    assert.deepEqual({ ...second.counts }, { created: 0, updated: 2, skipped: 26, deleted: 1, failed: 1 });
    assert.deepEqual(people(), await source());
    const { rows: bound } = await h.db.pool.query<{ internal_id: string }>(`select internal_id from ferry_bindings where stream = $1 and record_key in ('["2"]', '["3"]') order by record_key`, [stream]);
    const writes = api.log.slice(before).filter((r) => r.method !== 'GET' && r.path !== '/people').map((r) => `${r.method} ${r.path}`).sort();
    assert.ok(bound.every((b) => writes.includes(`PUT /people/${b.internal_id}`)), `updates by internal id: ${writes.join(', ')}`);
    assert.equal(writes.filter((w) => w.startsWith('DELETE')).length, 1);

    const text = await leftBehind(h, stream);
    for (const secret of [CANARY, SECRET]) assert.ok(!text.includes(secret), `${secret.split('-')[0]} leaked into history or run rows`);
    await h.stopWorker();
  });
});
