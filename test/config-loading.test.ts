import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineStream } from '../src/config/define-stream.js';
import { loadConfig } from '../src/config/load-config.js';
import { httpSource } from '../src/connectors/http/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { DATABASE_BATCH_SIZE } from '../src/connectors/source.js';
import { ConfigurationError, UnknownStreamError } from '../src/core/errors.js';
import { fixturePath } from './support/harness.js';

describe('loading ferry.config.ts', () => {
  it('collects streams from a folder the config points to, single and in arrays', async () => {
    const registry = await loadConfig(fixturePath('streams-folder', 'ferry.config.ts'));
    assert.deepEqual(registry.names().sort(), ['folder.order_lines', 'folder.orders']);
    const lines = registry.get('folder.order_lines');
    assert.deepEqual(lines.shape.key, ['order_id', 'line']);
    assert.equal(lines.plan.incremental, false, 'no cursor: every run is a full pass');
    assert.equal(registry.get('folder.orders').plan.batchSize, DATABASE_BATCH_SIZE, "no batchSize: a Postgres source's own (5,000)");
    assert.deepEqual(registry.get('folder.orders').plan.deletes, { mode: 'none', maxDeleteFraction: 1 });
    await registry.close();
  });

  it("a stream's batch size: its own, else its source's, else 500 (an HTTP API is asked for a batch a page)", () => {
    const options = {
      name: 'http.items',
      source: httpSource({ baseUrl: 'http://127.0.0.1:1', system: 'crm', path: '/items' }),
      schema: z.object({ id: z.number() }),
      target: postgresTarget({ url: 'postgres://postgres@127.0.0.1:5432/unused', table: 'items', key: 'id', system: 'app' }),
      key: 'id',
    };
    assert.equal(DATABASE_BATCH_SIZE, 5_000);
    assert.equal(defineStream(options).resolved.plan.batchSize, 500);
    assert.equal(defineStream({ ...options, batchSize: 50 }).resolved.plan.batchSize, 50);
  });

  it('names the known streams when asked for an unknown one', async () => {
    const registry = await loadConfig(fixturePath('streams-folder', 'ferry.config.ts'));
    assert.throws(() => registry.get('folder.nope'), (err: Error) => err instanceof UnknownStreamError && /folder\.orders/.test(err.message));
    await registry.close();
  });

  it('refuses two streams with one name', async () => {
    await assert.rejects(loadConfig(fixturePath('bad-config', 'duplicate.config.ts')), (err: Error) => err instanceof ConfigurationError && /"folder\.orders" is defined twice/.test(err.message));
  });

  it('says what a config file must export', async () => {
    await assert.rejects(loadConfig(fixturePath('bad-config', 'no-default.config.ts')), (err: Error) => err instanceof ConfigurationError && /must default-export defineConfig/.test(err.message));
  });

  it('says which config file is missing', async () => {
    await assert.rejects(loadConfig(fixturePath('nowhere.config.ts')), (err: Error) => err instanceof ConfigurationError && /nowhere\.config\.ts not found/.test(err.message));
  });
});
