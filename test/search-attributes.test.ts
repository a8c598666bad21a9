// Runs are searchable: every run carries ferry's search attributes (stream,
// mode, status, counts) and a memo with its summary, so an operator finds
// "stream = X and status = failed" in the Web UI or with a visibility query;
// `ferry setup` registers them idempotently; `ferry runs` links each run to
// its Web UI page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { postgresSource } from '../src/connectors/postgres/source.js';
import { ensureSearchAttributes } from '../src/setup/search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../src/workflows/search-attribute-keys.js';
import { cli } from './support/cli-process.js';
import { createCustomerTables, customerStream, seedCustomers } from './support/customers.js';
import { createHarness, type Harness } from './support/harness.js';

describe('searchable runs', () => {
  let h: Harness;
  let good: string;
  let broken: string;
  let tables: { source: string; target: string };

  before(async () => {
    h = await createHarness('search');
    tables = await createCustomerTables(h.db.pool);
    await seedCustomers(h.db.pool, tables.source, 30);
    good = h.name('search.good');
    broken = h.name('search.broken');
    await h.startWorker([
      customerStream(good, h.db.url, tables),
      // fails when it begins: the source table does not exist
      customerStream(broken, h.db.url, tables, { source: postgresSource({ url: h.db.url, table: 'no_such_table', system: 'crm' }) }),
    ]);
  });
  after(async () => h?.close());

  /** Visibility is eventually consistent: polls a query until it finds `expected` executions. */
  async function search(query: string, expected: number): Promise<WorkflowExecutionInfo[]> {
    let found: WorkflowExecutionInfo[] = [];
    for (let i = 0; i < 60; i++) {
      found = [];
      for await (const w of h.client.workflow.list({ query })) found.push(w);
      if (found.length >= expected) return found;
      await sleep(250);
    }
    return found;
  }

  it('ferry setup registers the search attributes, and again changes nothing', async () => {
    const again = await ensureSearchAttributes(h.client, h.settings.namespace, { register: true });
    assert.deepEqual(again.missing, []);
    assert.deepEqual(again.added, [], 'the worker (or the dev server) registered them already');
    assert.deepEqual(again.present.sort(), Object.values(SEARCH_ATTRIBUTES).map((k) => k.name).sort());
    const run = await cli(h, ['setup'], { config: 'cli.config.ts', env: { FERRY_TEST_STREAM: good, FERRY_TEST_SOURCE_TABLE: tables.source, FERRY_TEST_TARGET_TABLE: tables.target } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /search attributes: all 8 registered in namespace "default"/);
  });

  it('tags runs with stream, mode, status and counts, and finds the failed one', async () => {
    const ok = await h.run({ stream: good });
    assert.equal(ok.status, 'succeeded');
    await assert.rejects(h.run({ stream: broken }), (err: Error) => /no_such_table/.test(String(err.cause instanceof Error ? err.cause.message : '')));

    const [succeeded] = await search(`FerryStream = "${good}" AND FerryStatus = "succeeded"`, 1);
    assert.ok(succeeded, 'the succeeded run is found by stream and status');
    const attributes = succeeded.typedSearchAttributes;
    assert.equal(attributes.get(SEARCH_ATTRIBUTES.mode), 'incremental');
    assert.equal(attributes.get(SEARCH_ATTRIBUTES.records), 30);
    assert.equal(attributes.get(SEARCH_ATTRIBUTES.written), 30);
    assert.equal(attributes.get(SEARCH_ATTRIBUTES.failed), 0);
    assert.match(String(succeeded.memo?.summary), /^succeeded: created 30, updated 0/);

    const failed = await search(`FerryStream = "${broken}" AND FerryStatus = "failed"`, 1);
    assert.equal(failed.length, 1, 'the run that failed as it began is found too');
    assert.match(String(failed[0]!.memo?.summary), /^failed: .*no_such_table/);
    assert.equal((await search(`FerryStream = "${good}" AND FerryStatus = "failed"`, 0)).length, 0, 'no false hit');
  });

  it('ferry runs lists a stream\'s runs with their Web UI pages', async () => {
    const config = { config: 'cli.config.ts', env: { FERRY_TEST_STREAM: good, FERRY_TEST_SOURCE_TABLE: tables.source, FERRY_TEST_TARGET_TABLE: tables.target } };
    const run = await cli(h, ['runs', good], config);
    assert.equal(run.code, 0, run.stderr);
    const port = Number(h.settings.address.split(':').pop());
    assert.match(run.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port + 1000}/namespaces/default/workflows/${encodeURIComponent(good).replace(/\./g, '\\.')}/[0-9a-f-]{36}/history`));
    const failedOnly = await cli(h, ['runs', good, '--status', 'failed', '--json'], { ...config, env: { ...config.env, TEMPORAL_UI_URL: 'https://temporal.example/' } });
    assert.deepEqual(JSON.parse(failedOnly.stdout), []);
    const json = await cli(h, ['runs', good, '--json'], { ...config, env: { ...config.env, TEMPORAL_UI_URL: 'https://temporal.example/' } });
    const rows = JSON.parse(json.stdout) as { status: string; url: string }[];
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.url, /^https:\/\/temporal\.example\/namespaces\/default\/workflows\/.+\/history$/);
  });
});
