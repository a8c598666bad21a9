// One run per stream (guarantee 5), record data out of Temporal history
// (guarantee 4), and cancellation at a batch boundary.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { progressQuery } from '../src/workflows/definitions.js';
import { runCli } from './support/cli.js';
import { createCustomerTables, customerSource, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { gatedSource, type GatedSource } from './support/gated-source.js';
import { createHarness, type Harness } from './support/harness.js';
import { chainHistories, historyText } from './support/history.js';

type Tables = { source: string; target: string };


async function runRows(h: Harness, stream: string) {
  const { rows } = await h.db.pool.query(`select id, status, batches, created, updated, skipped, deleted, failed, message, error from ferry_runs where stream = $1 order by started_at`, [stream]);
  return rows;
}

async function checkpointOf(h: Harness, stream: string): Promise<unknown> {
  return (await h.db.pool.query(`select cursor from ferry_checkpoints where stream = $1`, [stream])).rows[0]?.cursor;
}

/** The cursor the source makes after the n-th row in keyset order (updated_at, id). */
async function cursorAfterRow(h: Harness, table: string, n: number): Promise<unknown> {
  const { rows } = await h.db.pool.query(`select id::text as id, updated_at::text as v from ${table} t order by t.updated_at, t.id offset $1 limit 1`, [n - 1]);
  return { value: rows[0].v, key: [rows[0].id] };
}

async function isCancelled(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
}

describe('locking, history and cancellation', () => {
  let h: Harness;
  const t: Record<'lock' | 'canary' | 'cancel' | 'boundary', { stream: string; tables: Tables; source: GatedSource }> = {} as never;

  before(async () => {
    h = await createHarness('locking');
    const streams = [];
    for (const [name, options] of [
      ['lock', { batchSize: 10 }],
      ['canary', { batchSize: 5, continueAsNewEvery: 3 }],
      ['cancel', { batchSize: 5 }],
      ['boundary', { batchSize: 5, continueAsNewEvery: 2 }],
    ] as const) {
      const tables = await createCustomerTables(h.db.pool, `_${name}`);
      const stream = h.name(`locking.${name}`);
      const source = gatedSource(customerSource(h.db.url, tables.source));
      t[name] = { stream, tables, source };
      streams.push(customerStream(stream, h.db.url, tables, { ...options, source }));
    }
    await h.startWorker(streams);
  });
  after(() => h.close());

  it('refuses a second start of a running stream: from the client, and from the CLI with exit code 3', async () => {
    const { stream, tables, source } = t.lock;
    await seedCustomers(h.db.pool, tables.source, 30);
    const gate = source.hold(0);
    const handle = await h.start({ stream });
    try {
      await gate.reached;
      await assert.rejects(h.start({ stream }), (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError);
      await assert.rejects(h.start({ stream, full: true }), (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError);

      const cli = await runCli(h, ['run', stream], stream, tables);
      assert.equal(cli.code, 3, `exit code; stderr: ${cli.stderr}`);
      assert.match(cli.stderr, new RegExp(`stream "${stream}" is already running`));
      assert.ok(cli.stderr.includes(`run ${handle.firstExecutionRunId}`), `names the running run ${handle.firstExecutionRunId}: ${cli.stderr}`);
      assert.match(cli.stderr, /ferry cancel/);
      assert.equal(cli.stdout, '');
    } finally {
      gate.release();
    }
    const summary = await handle.result();
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 30, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
    const runs = await runRows(h, stream);
    assert.equal(runs.length, 1, 'the refused starts left no run row');
    assert.equal(runs[0].status, 'succeeded');
  });

  it('keeps record data out of the workflow history, across continue-as-new and in dead-letter cases', async () => {
    const { stream, tables } = t.canary;
    const canary = `canary${randomBytes(6).toString('hex')}`;
    await seedCustomers(h.db.pool, tables.source, 60);
    // valid records carry the canary in name and email; three more fail at each stage
    await h.db.pool.query(`update ${tables.source} set name = 'Name ' || $1 || ' ' || id, email = $1 || id || '@example.com'`, [canary]);
    await h.db.pool.query(`update ${tables.source} set email = $1 || ' not an email' where id = 7`, [canary]);
    await h.db.pool.query(`update ${tables.source} set score = -1 where id = 23`);
    await h.db.pool.query(`update ${tables.source} set name = 'REJECT ME' where id = 41`);

    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 57, updated: 0, skipped: 0, deleted: 0, failed: 3 });
    // the canary did travel through the system...
    const targetHits = await h.db.pool.query(`select count(*)::int as n from ${tables.target} where name like '%' || $1 || '%'`, [canary]);
    assert.equal(targetHits.rows[0].n, 57);
    const letterHits = await h.db.pool.query(`select count(*)::int as n from ferry_dead_letters where stream = $1 and raw::text like '%' || $2 || '%'`, [stream, canary]);
    assert.equal(letterHits.rows[0].n, 3);

    // ...but through no history of the chain
    const histories = await chainHistories(h.client, stream);
    assert.ok(histories.length >= 4, `expected several executions (continue-as-new), got ${histories.length}`);
    const texts = histories.map(historyText);
    // the decoding works: what does travel (stream name, cursors) is readable in the text
    assert.ok(texts.every((x) => x.includes(`"stream":"${stream}"`)));
    assert.ok(texts.at(-1)?.includes('"key":["60"]'), 'the last cursor is visible in the decoded history');
    texts.forEach((text, i) => assert.ok(!text.includes(canary), `execution ${i + 1} of ${texts.length} holds record data`));
  });

  it('cancelled mid-run: stops at a batch boundary, run row cancelled, checkpoint at the last committed batch; the next run finishes', async () => {
    const { stream, tables, source } = t.cancel;
    await seedCustomers(h.db.pool, tables.source, 100);
    source.delayMs = 150; // 20 small, slowed batches
    const handle = await h.start({ stream });
    for (;;) {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      if (progress && progress.batches >= 3) break;
      await sleep(50);
    }
    await handle.cancel();
    await isCancelled(handle.result());
    source.delayMs = 0;

    const [run] = await runRows(h, stream);
    assert.equal(run.status, 'cancelled');
    assert.match(run.message, /cancelled/);
    assert.ok(run.batches >= 3 && run.batches < 20, `stopped mid-run, after ${run.batches} batches`);
    const committed = run.batches * 5;
    assert.equal(run.created, committed);
    assert.deepEqual(await checkpointOf(h, stream), await cursorAfterRow(h, tables.source, committed));
    assert.deepEqual(await targetRows(h.db.pool, tables.target), (await sourceRows(h.db.pool, tables.source)).slice(0, committed));

    const rest = await h.run({ stream });
    assert.equal(rest.status, 'succeeded');
    assert.deepEqual({ ...rest.counts }, { created: 100 - committed, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });

  it('cancelled during the batch before a continue-as-new: still cancelled, with its run row', async () => {
    const { stream, tables, source } = t.boundary;
    await seedCustomers(h.db.pool, tables.source, 30);
    // continueAsNewEvery 2: the second batch is the last of the first execution. Fetch #2 is the
    // third batch's, made ahead while the second is written: held, the cancel arrives then.
    const gate = source.hold(2);
    const handle = await h.start({ stream });
    await gate.reached;
    await handle.cancel();
    gate.release();
    await isCancelled(handle.result());

    const runs = await runRows(h, stream);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'cancelled');
    assert.equal(runs[0].batches, 2);
    assert.equal(runs[0].created, 10);
    assert.deepEqual(await checkpointOf(h, stream), await cursorAfterRow(h, tables.source, 10));
    assert.deepEqual(await targetRows(h.db.pool, tables.target), (await sourceRows(h.db.pool, tables.source)).slice(0, 10));
    // The server may suggest continue-as-new earlier (tests run it at 40 events): what matters is that
    // the execution the cancel reached ended cancelled instead of continuing as new without it.
    const histories = await chainHistories(h.client, stream);
    const requested = histories.map((x) => (x.events ?? []).some((e) => e.workflowExecutionCancelRequestedEventAttributes));
    assert.deepEqual(requested, [...histories.slice(1).map(() => false), true], 'the cancel reached the last execution only');
    assert.ok((histories.at(-1)?.events ?? []).some((e) => e.workflowExecutionCanceledEventAttributes), 'which ended cancelled, not continued as new');

    const rest = await h.run({ stream });
    assert.deepEqual({ ...rest.counts }, { created: 20, updated: 0, skipped: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
  });
});
