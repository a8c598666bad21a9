// The NATS JetStream target (src/connectors/nats) against the NATS server at
// 127.0.0.1:4222: the shared target conformance suite (a consumer folds the
// published changes into what B holds), and what each message looks like:
// subject, headers, exact JSON body, de-duplication of a re-published batch by
// Nats-Msg-Id, deletes as events, the JetStream stream created or checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { natsTarget } from '../src/connectors/nats/target.js';
import { messageId, subjectMatches, subjectOf } from '../src/connectors/nats/messages.js';
import { ConfigurationError } from '../src/core/errors.js';
import { JSON_NULL, LosslessNumber } from '../src/core/json-values.js';
import { parseKey } from '../src/core/key.js';
import type { TargetRow } from '../src/connectors/target.js';
import { registerTargetSuite } from './conformance/target-suite.js';
import { createHarness, type Harness } from './support/harness.js';
import { memorySource } from './support/memory-source.js';
import { NATS_URL, natsTestClient, type NatsTestClient } from './support/nats.js';

let client: NatsTestClient;
before(async () => {
  client = await natsTestClient();
});
after(() => client.close());

/** What the messages say B holds: created/updated set the record's name, deleted removes it. */
async function fold(stream: string): Promise<Map<number, string>> {
  const held = new Map<number, string>();
  for (const m of await client.messages(stream)) {
    const id = Number(parseKey(m.headers['Ferry-Key'] ?? '[]')[0]);
    if (m.subject.endsWith('.deleted')) held.delete(id);
    else held.set(id, (JSON.parse(m.body) as { name: string }).name);
  }
  return held;
}

registerTargetSuite('nats jetstream', {
  async create() {
    const jetStream = client.streamName('conf');
    const prefix = `conf${Math.random().toString(36).slice(2, 8)}`;
    const target = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: prefix, duplicateWindow: '2m' });
    return {
      target,
      projection: (id: number, name: string) => ({ kind: 'record', fields: { id, name } }),
      // bigger than the server's max_payload (1 MB by default): the client refuses it
      rejectable: (id: number) => ({ kind: 'record', fields: { id, name: 'x'.repeat(2 * 1024 * 1024) } }),
      read: () => fold(jetStream),
      close: () => target.close(),
    };
  },
});

describe('nats jetstream target: the messages', () => {
  const ctx = { stream: 'crm.orders', runId: 'run-1' };
  const row = (id: number, version: string, fields: Record<string, unknown>, op: TargetRow['op'] = 'create'): TargetRow => ({
    key: [String(id)],
    internalId: null,
    op,
    version,
    projection: { kind: 'order', fields },
  });

  it('one message per change on <prefix>.<stream>.<op>, exact JSON body, key and version headers, Nats-Msg-Id from stream, key, version and op', async () => {
    const jetStream = client.streamName('shape');
    const target = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'shape' });
    try {
      await target.check();
      const info = await client.jsm.streams.info(jetStream);
      assert.deepEqual(info.config.subjects, ['shape.>'], 'created with the prefix as its subjects');
      assert.equal(info.config.duplicate_window, 10 * 60 * 1e9, 'the default duplicate window: 10 minutes');

      const big = new LosslessNumber('90071992547409931234.50');
      const fields = { id: 1, total: big, lines: [{ sku: 'é✓', qty: new LosslessNumber('12345678901234567890') }], note: JSON_NULL, gone: null };
      const result = await target.upsert([row(1, 'v1', fields), row(2, 'v7', { id: 2 }, 'update')], ctx);
      assert.deepEqual(result, { ids: [null, null], rejected: [] });
      const deleted = await target.delete?.([{ key: ['3'], internalId: null, version: 'v2' }], ctx);
      assert.equal(deleted, 1);

      const messages = await client.messages(jetStream);
      assert.deepEqual(messages.map((m) => m.subject), ['shape.crm.orders.created', 'shape.crm.orders.updated', 'shape.crm.orders.deleted']);
      assert.equal(messages[0]?.body, '{"id":1,"total":90071992547409931234.50,"lines":[{"sku":"é✓","qty":12345678901234567890}],"note":null,"gone":null}');
      assert.deepEqual(messages[0]?.headers, {
        'Ferry-Stream': 'crm.orders',
        'Ferry-Key': '["1"]',
        'Ferry-Version': 'v1',
        'Ferry-Op': 'created',
        'Ferry-Kind': 'order',
        'Ferry-Run': 'run-1',
        'Nats-Msg-Id': messageId('crm.orders', ['1'], 'v1', 'created'),
        'Nats-Expected-Stream': jetStream,
      });
      assert.equal(messages[2]?.body, '', 'a delete has no body');
      assert.equal(messages[2]?.headers['Ferry-Version'], 'v2', 'the last version written');
      assert.notEqual(messageId('s', ['1'], 'v1', 'created'), messageId('s', ['1'], 'v2', 'created'));
      assert.notEqual(messageId('s', ['1'], 'v1', 'created'), messageId('s', ['1'], 'v1', 'updated'));
      assert.notEqual(messageId('s', ['1', '2'], 'v', 'created'), messageId('s', ['1,2'], 'v', 'created'));
    } finally {
      await target.close();
    }
  });

  it('a batch published again (a retry) is dropped by the server: still one message per change; a new version is a new message', async () => {
    const jetStream = client.streamName('dedup');
    const target = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'dedup' });
    try {
      const rows = Array.from({ length: 500 }, (_, i) => row(i + 1, 'v1', { id: i + 1 }));
      await target.upsert(rows, ctx);
      await target.upsert(rows, ctx);
      await target.upsert(rows.slice(0, 250), ctx);
      assert.equal((await client.jsm.streams.info(jetStream)).state.messages, 500);
      await target.upsert([row(7, 'v2', { id: 7 }, 'update')], ctx);
      const messages = await client.messages(jetStream);
      assert.equal(messages.length, 501);
      assert.deepEqual(messages.slice(0, 500).map((m) => m.headers['Ferry-Key']), rows.map((r) => JSON.stringify(r.key)), 'in the order of the batch');
    } finally {
      await target.close();
    }
  });

  it('an existing JetStream stream is checked: subjects it does not take, or a shorter duplicate window, are configuration errors', async () => {
    const jetStream = client.streamName('existing');
    await client.jsm.streams.add({ name: jetStream, subjects: ['other.>'], duplicate_window: 60 * 1e9 });
    const wrongSubjects = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'mine' });
    await assert.rejects(wrongSubjects.check(), (err: unknown) => err instanceof ConfigurationError && /does not take subjects mine\.>/.test(err.message));
    await wrongSubjects.close();
    const shortWindow = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'other', duplicateWindow: '5m' });
    await assert.rejects(shortWindow.check(), (err: unknown) => err instanceof ConfigurationError && /remembers message ids for 1m/.test(err.message));
    await shortWindow.close();
    const fits = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'other' });
    await fits.check();
    await fits.close();
  });

  it('names: stream names become subject tokens; wildcards in filters', () => {
    assert.equal(subjectOf('ferry', 'crm.customers->app customers', 'created'), 'ferry.crm.customers-_app_customers.created');
    assert.equal(subjectOf('a.b', 'x..y', 'deleted'), 'a.b.x._.y.deleted');
    assert.ok(subjectMatches('ferry.>', 'ferry.a.b.created'));
    assert.ok(subjectMatches('ferry.*.*.created', 'ferry.a.b.created'));
    assert.ok(!subjectMatches('ferry.*', 'ferry.a.b'));
    assert.ok(!subjectMatches('other.>', 'ferry.a'));
    assert.throws(() => natsTarget({ servers: NATS_URL, system: 'e', jetStream: 'bad.name' }), ConfigurationError);
    assert.throws(() => natsTarget({ servers: NATS_URL, system: 'e', jetStream: 'OK', subjectPrefix: 'a.>' }), ConfigurationError);
  });

  it('a server that does not answer is a transient error', async () => {
    const target = natsTarget({ servers: 'nats://127.0.0.1:1', system: 'events', jetStream: 'NOPE', connection: { reconnect: false, timeout: 500 } });
    await assert.rejects(target.upsert([row(1, 'v1', { id: 1 })], ctx), (err: unknown) => err instanceof Error && err.name === 'TransientError');
    await target.close();
  });
});

describe('nats jetstream target in a real run: updates and mirror deletes as events', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness('nats_run');
  });
  after(() => h?.close());

  it('a full pass publishes created, then updated for a changed record and deleted (with its last version) for a vanished one', async () => {
    const jetStream = client.streamName('run');
    const stream = h.name('crm.people');
    const source = memorySource('crm', Array.from({ length: 6 }, (_, i) => ({ id: String(i + 1), name: `v1 ${i + 1}`, rev: '1' })));
    const target = natsTarget({ servers: NATS_URL, system: 'events', jetStream, subjectPrefix: 'run' });
    await h.startWorker([
      defineStream({
        name: stream,
        source,
        schema: z.object({ id: z.string(), name: z.string(), rev: z.string() }),
        map: (r) => ({ kind: 'person', fields: { id: r.id, name: r.name } }),
        target,
        key: 'id',
        version: 'rev',
        batchSize: 4,
        deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
        retry: { maximumAttempts: 3, initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s' },
      }),
    ]);
    try {
      const first = await h.run({ stream, full: true });
      assert.deepEqual({ ...first.counts }, { created: 6, updated: 0, skipped: 0, deleted: 0, failed: 0 });
      source.records.splice(4, 1); // id 5 vanishes
      Object.assign(source.records[1] as object, { name: 'v2 2', rev: '2' });
      const second = await h.run({ stream, full: true });
      assert.deepEqual({ ...second.counts }, { created: 0, updated: 1, skipped: 4, deleted: 1, failed: 0 });
      const messages = await client.messages(jetStream);
      const tail = messages.slice(6).map((m) => [m.subject.replace(`run.${stream}.`, ''), m.headers['Ferry-Key'], m.headers['Ferry-Version']]);
      assert.deepEqual(tail, [
        ['updated', '["2"]', '2'],
        ['deleted', '["5"]', '1'],
      ]);
      assert.equal(messages.length, 8, 'nothing else: unchanged records publish nothing');
    } finally {
      await h.stopWorker();
    }
  });
});
