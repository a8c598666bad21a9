// Typed connector errors (src/connectors/errors.ts) and the one place that maps
// them to Temporal (src/activities/connector-call.ts): a server-given delay is
// waited by Temporal itself before the next attempt; a configuration error
// fails the run without a retry; a rejected record from a one-record target is
// a dead letter with the system's status and body; the pure isRetryable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { upsertRows } from '../src/activities/target-writes.js';
import {
  CONNECTOR_ERROR_CODES,
  ConfigurationError,
  RecordRejectedError,
  TransientError,
  TransientWithDelayError,
  connectorErrorCode,
  isRetryable,
  retryAfterMs,
} from '../src/connectors/errors.js';
import type { Source } from '../src/connectors/source.js';
import type { Target, TargetRow, UpsertResult } from '../src/connectors/target.js';
import { createCustomerTables, customerSource, customerStream, customerTarget, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { forwardSource, forwardTarget } from './support/forward.js';
import { createHarness, type Harness } from './support/harness.js';
import { activityAttempts, chainHistories, historyText } from './support/history.js';

describe('connector errors', () => {
  describe('isRetryable and the codes (pure)', () => {
    it('retries transient faults and unknown errors, never configuration errors or rejected records', () => {
      assert.equal(isRetryable(new TransientError('502 Bad Gateway')), true);
      assert.equal(isRetryable(new TransientWithDelayError('429 Too Many Requests', 2_000)), true);
      assert.equal(isRetryable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
      assert.equal(isRetryable('a thrown string'), true);
      assert.equal(isRetryable(new ConfigurationError('no such table')), false);
      assert.equal(isRetryable(new RecordRejectedError('422', { status: 422, body: '{}' })), false);
    });
    it('every class has its documented code', () => {
      assert.equal(connectorErrorCode(new RecordRejectedError('x')), CONNECTOR_ERROR_CODES.recordRejected);
      assert.equal(connectorErrorCode(new TransientError('x')), 'FERRY_TRANSIENT');
      assert.equal(connectorErrorCode(new TransientWithDelayError('x', 1)), 'FERRY_TRANSIENT_WITH_DELAY');
      assert.equal(connectorErrorCode(new ConfigurationError('x')), 'FERRY_CONFIGURATION');
      assert.equal(connectorErrorCode(new Error('x')), undefined);
    });
    it('reads Retry-After as seconds or an HTTP date', () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      assert.equal(retryAfterMs('3', now), 3_000);
      assert.equal(retryAfterMs('0.5', now), 500);
      assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
      assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past: no wait');
      assert.equal(retryAfterMs('soon', now), undefined);
      assert.equal(retryAfterMs(null, now), undefined);
    });
  });

  describe('the engine write path (upsertRows)', () => {
    /** An in-memory B that refuses a record named 'REJECT ME' by throwing, as a REST API's 422 would. */
    function throwingTarget(batchLimit: number | undefined) {
      const stored = new Map<string, string>();
      const calls: number[] = [];
      const target: Target = {
        system: 'api',
        capabilities: { delete: false, returnsIds: true, idempotent: true, batchLimit },
        check: async () => undefined,
        close: async () => undefined,
        async upsert(rows: readonly TargetRow[]): Promise<UpsertResult> {
          calls.push(rows.length);
          const bad = rows.find((r) => r.projection.fields.name === 'REJECT ME');
          if (bad) throw new RecordRejectedError(`POST /customers: 422 Unprocessable Entity`, { status: 422, body: '{"error":"name is reserved"}' });
          for (const r of rows) stored.set(r.key[0] as string, String(r.projection.fields.name));
          return { ids: rows.map((r) => `api-${r.key[0]}`), rejected: [] };
        },
      };
      return { target, stored, calls };
    }
    const ctx = { stream: 'errors', runId: 'errors-run' };
    const rows = (n: number, reject: number): TargetRow[] =>
      Array.from({ length: n }, (_, i) => ({ key: [String(i + 1)], internalId: null, op: 'create' as const, version: 'v1', projection: { kind: 'c', fields: { name: i + 1 === reject ? 'REJECT ME' : `n${i + 1}` } } }));

    for (const limit of [1, undefined]) {
      it(`a RecordRejectedError thrown by ${limit === 1 ? 'a one-record target' : 'a bulk call'} becomes that row's rejection, the others are written`, async () => {
        const { target, stored, calls } = throwingTarget(limit);
        const result = await upsertRows(target, rows(7, 3), ctx);
        assert.deepEqual(result.rejected, [{ index: 2, message: 'POST /customers: 422 Unprocessable Entity', issues: [], status: 422, body: '{"error":"name is reserved"}' }]);
        assert.deepEqual(result.ids, ['api-1', 'api-2', null, 'api-4', 'api-5', 'api-6', 'api-7']);
        assert.deepEqual([...stored.keys()].sort(), ['1', '2', '4', '5', '6', '7']);
        if (limit === 1) assert.deepEqual(calls, [1, 1, 1, 1, 1, 1, 1]);
        else assert.ok(calls.length <= 1 + 2 * Math.ceil(Math.log2(7)), `bisected in a few calls: ${calls.join(', ')}`);
      });
    }

    it('splits a batch above the batch limit', async () => {
      const { target, calls } = throwingTarget(4);
      const result = await upsertRows(target, rows(10, 0), ctx);
      assert.deepEqual(calls, [4, 4, 2]);
      assert.equal(result.ids.filter((id) => id !== null).length, 10);
    });

    it('refuses a target that breaks the contract (ids missing)', async () => {
      const target: Target = { ...throwingTarget(undefined).target, upsert: async () => ({ ids: [], rejected: [] }) };
      await assert.rejects(upsertRows(target, rows(2, 0), ctx), /target system "api" broke the connector contract: upsert of 2 rows returned 0 ids/);
    });
  });

  describe('through Temporal', () => {
    let h: Harness;
    let tables: { source: string; target: string };
    before(async () => {
      h = await createHarness('connerrors');
      tables = await createCustomerTables(h.db.pool);
      await seedCustomers(h.db.pool, tables.source, 12);
    });
    after(() => h.close());
    const fastRetry = { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '200ms' };

    it("a TransientWithDelay (a 429's Retry-After) makes the next attempt wait that long, through Temporal's retry", async () => {
      const delayMs = 2_500;
      const fetchedAt: number[] = [];
      const inner = customerSource(h.db.url, tables.source);
      const source: Source = {
        ...forwardSource(inner),
        async fetch(request) {
          fetchedAt.push(Date.now());
          if (fetchedAt.length === 1) throw new TransientWithDelayError('GET /customers: 429 Too Many Requests', delayMs);
          return inner.fetch(request);
        },
      };
      const stream = h.name('errors.delay');
      await h.startWorker([customerStream(stream, h.db.url, tables, { source, retry: fastRetry })]);
      await h.db.pool.query(`truncate ${tables.target}`);
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.equal(summary.counts.created, 12);
      assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
      const waited = (fetchedAt[1] as number) - (fetchedAt[0] as number);
      // the stream's own backoff would retry after 100 ms
      assert.ok(waited >= delayMs - 50, `the second attempt came ${waited} ms after the first, the server asked for ${delayMs}`);
      assert.ok(waited < delayMs + 5_000, `and not much later: ${waited} ms`);
      const histories = await chainHistories(h.client, stream);
      assert.deepEqual(activityAttempts(histories, 'prepareBatch').sort(), [1, 2], 'two pages; the first fetched on its second attempt');
      console.log(`# TransientWithDelay(${delayMs} ms): next attempt after ${waited} ms`);
    });

    it('a ConfigurationError from the target fails the run at once, without a retry', async () => {
      let upserts = 0;
      const inner = customerTarget(h.db.url, tables.target);
      const target: Target = {
        ...forwardTarget(inner),
        async upsert() {
          upserts += 1;
          throw new ConfigurationError('PUT /customers/{id}: 401 Unauthorized', 'check the token in FERRY_CRM_TOKEN');
        },
      };
      const stream = h.name('errors.config');
      await h.startWorker([customerStream(stream, h.db.url, tables, { target, retry: { ...fastRetry, maximumAttempts: 5 } })]);
      await assert.rejects(h.run({ stream }), /failed/);
      assert.equal(upserts, 1, 'tried once');
      assert.deepEqual(activityAttempts(await chainHistories(h.client, stream), 'upsertBatch'), [1]);
      const { rows } = await h.db.pool.query(`select status, error from ferry_runs where stream = $1`, [stream]);
      assert.equal(rows[0].status, 'failed');
      assert.match(rows[0].error, /401 Unauthorized \(check the token in FERRY_CRM_TOKEN\)/);
    });

    it("a one-record target's RecordRejectedError is a dead letter with the system's status and body; the run goes on", async () => {
      await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME', updated_at = clock_timestamp() where id = 5`);
      const inner = customerTarget(h.db.url, tables.target);
      const target: Target = {
        ...forwardTarget(inner),
        capabilities: { ...inner.capabilities, batchLimit: 1 },
        async upsert(rows, context) {
          assert.equal(rows.length, 1, 'a one-record target gets one row per call');
          if (rows[0]?.projection.fields.name === 'REJECT ME') {
            throw new RecordRejectedError('PUT /customers/5: 422 Unprocessable Entity', { status: 422, body: '{"error":"name is reserved"}' });
          }
          return inner.upsert(rows, context);
        },
      };
      const stream = h.name('errors.rejected');
      await h.startWorker([customerStream(stream, h.db.url, tables, { target, retry: fastRetry })]);
      await h.db.pool.query(`truncate ${tables.target}`);
      const summary = await h.run({ stream });
      assert.equal(summary.status, 'succeeded');
      assert.deepEqual({ ...summary.counts }, { created: 11, updated: 0, skipped: 0, deleted: 0, failed: 1 });
      const { rows } = await h.db.pool.query(`select record_key, stage, error from ferry_dead_letters where stream = $1`, [stream]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].record_key, '["5"]');
      assert.equal(rows[0].stage, 'target');
      assert.match(rows[0].error, /PUT \/customers\/5: 422 Unprocessable Entity \(status 422\); response: \{"error":"name is reserved"\}/);
      const history = (await chainHistories(h.client, stream)).map(historyText).join('\n');
      assert.ok(!history.includes('name is reserved'), 'the response body stays out of Temporal history');
    });
  });
});
