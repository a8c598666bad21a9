import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StreamRegistry } from '../src/config/load-config.js';
import { ConfigurationError } from '../src/core/errors.js';
import { METRIC } from '../src/metrics/names.js';
import { installSdkMetrics, metricsSettings } from '../src/metrics/settings.js';
import { parsePgTimestamp } from '../src/connectors/keyset-cursor.js';
import { startMetricsServer } from '../src/metrics/server.js';
import { readStreamStates } from '../src/metrics/stream-state.js';
import { finishRun } from '../src/state/runs.js';
import { createFerryWorker, type FerryWorker } from '../src/worker.js';
import { runCli } from './support/cli.js';
import { createCustomerTables, customerStream, seedCustomers } from './support/customers.js';
import { createHarness, repoRoot, workflowBundlePath, type Harness } from './support/harness.js';

// ---------------------------------------------------------------- helpers

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format -> samples (enough of the format for what prom-client and the SDK print). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return parseExposition(await res.text());
}

/** The value of the one sample with this name and these labels; undefined when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value;
}

const OUTCOMES = ['created', 'updated', 'skipped', 'deleted', 'failed'] as const;

// ---------------------------------------------------------------- the test world

// The SDK's runtime (and its Prometheus exporter) must exist before any Temporal connection of this process.
const sdkPort = await freePort();
const sdkUrl = installSdkMetrics({ port: sdkPort, host: '127.0.0.1' });

describe('metrics and ferry stats', () => {
  let h: Harness;
  let tables: { source: string; target: string };
  let stream: string;
  let broken: string;
  let snapshot: string;
  let ferry: FerryWorker;
  let running: Promise<void>;
  let stopped = false;
  const stopWorker = async () => {
    if (!stopped) ferry.shutdown();
    stopped = true;
    await running;
  };

  const runRows = async (name: string) =>
    (
      await h.db.pool.query<{ status: string; created: number; updated: number; skipped: number; deleted: number; failed: number; started_at: Date; finished_at: Date; seconds: number }>(
        `select *, extract(epoch from finished_at - started_at)::float8 as seconds from ferry_runs where stream = $1 order by started_at`,
        [name],
      )
    ).rows;
  const deadLetterCount = async (name: string) => Number((await h.db.pool.query(`select count(*) as n from ferry_dead_letters where stream = $1`, [name])).rows[0].n);

  before(async () => {
    h = await createHarness('metrics');
    tables = await createCustomerTables(h.db.pool);
    stream = h.name('metrics.customers');
    broken = h.name('metrics.broken');
    snapshot = h.name('metrics.snapshot');
    const snapshotTables = await createCustomerTables(h.db.pool, '_snapshot');
    await seedCustomers(h.db.pool, snapshotTables.source, 5);
    ferry = await createFerryWorker({
      settings: h.settings,
      databaseUrl: h.db.url,
      streams: new StreamRegistry([
        // small batches continuing as new every 2: the SDK's continue-as-new counter (on the dashboard) appears for sure
        customerStream(stream, h.db.url, tables, { batchSize: 10, continueAsNewEvery: 2 }),
        // its source table does not exist: every run fails at once (a configuration error)
        customerStream(broken, h.db.url, { source: 'no_such_table', target: tables.target }),
        // no cursor: every run is a full pass, no checkpoint
        customerStream(snapshot, h.db.url, snapshotTables, { sourceOptions: { cursor: undefined } }),
      ]),
      metrics: { port: 0, host: '127.0.0.1' },
      ...(workflowBundlePath() ? { workflowBundlePath: workflowBundlePath() } : {}),
    });
    running = ferry.run();
  });
  after(async () => {
    if (ferry) await stopWorker();
    await h.close();
  });

  it('serves the counters of a run with created and failed records, and the state gauges', async () => {
    assert.ok(ferry.metricsUrl, 'the worker reports its metrics URL');
    const before = await scrape(ferry.metricsUrl);
    for (const outcome of OUTCOMES) assert.equal(value(before, METRIC.records, { stream, outcome }), 0, `${outcome} starts at 0`);
    assert.equal(value(before, METRIC.deadLetters, { stream }), 0);
    assert.equal(value(before, METRIC.lastSuccess, { stream }), undefined, 'no success yet');
    assert.equal(value(before, METRIC.stateStoreUp, {}), 1);

    await seedCustomers(h.db.pool, tables.source, 30);
    // 3 fail validation (email), 2 fail the mapper (negative score): 5 dead letters
    await h.db.pool.query(`update ${tables.source} set email = 'not-an-email' where id in (3, 13, 23)`);
    await h.db.pool.query(`update ${tables.source} set score = -1 where id in (7, 17)`);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 25, updated: 0, skipped: 0, deleted: 0, failed: 5 });

    const [row] = await runRows(stream);
    assert.ok(row);
    const samples = await scrape(ferry.metricsUrl);
    for (const outcome of OUTCOMES) assert.equal(value(samples, METRIC.records, { stream, outcome }), row[outcome], `records ${outcome} = run row`);
    assert.equal(value(samples, METRIC.runs, { stream, status: 'succeeded' }), 1);
    assert.equal(value(samples, METRIC.runs, { stream, status: 'failed' }), 0);
    assert.equal(value(samples, `${METRIC.runDuration}_count`, { stream, status: 'succeeded' }), 1);
    assert.ok(Math.abs(value(samples, `${METRIC.runDuration}_sum`, { stream, status: 'succeeded' })! - row.seconds) < 0.001, 'duration = run row');

    assert.equal(await deadLetterCount(stream), 5);
    assert.equal(value(samples, METRIC.deadLetters, { stream }), 5, 'dead-letter gauge = table');
    assert.equal(value(samples, METRIC.lastSuccess, { stream }), row.finished_at.getTime() / 1000, 'last success = run row finish');
    // timestamp cursor: lag is measured from the checkpoint's value (the newest updated_at synced)
    const { rows: lag } = await h.db.pool.query(
      `select extract(epoch from now() - (cursor->>'value')::timestamptz)::float8 as seconds from ferry_checkpoints where stream = $1`,
      [stream],
    );
    assert.ok(Math.abs(value(samples, METRIC.lag, { stream })! - lag[0].seconds) < 5, `lag ${value(samples, METRIC.lag, { stream })} ≈ ${lag[0].seconds}`);
  });

  it('adds the second run to the counters, once per run', async () => {
    // 2 dead letters fixed, 3 rows changed, 2 new rows of which 1 invalid
    await h.db.pool.query(`update ${tables.source} set email = 'fixed' || id || '@example.com', updated_at = clock_timestamp() where id in (3, 13)`);
    await h.db.pool.query(`update ${tables.source} set name = name || ' (changed)', updated_at = clock_timestamp() where id in (1, 2, 4)`);
    await seedCustomers(h.db.pool, tables.source, 2, 100);
    await h.db.pool.query(`update ${tables.source} set email = 'broken', updated_at = clock_timestamp() where id = 101`);
    const summary = await h.run({ stream });
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual({ ...summary.counts }, { created: 3, updated: 3, skipped: 0, deleted: 0, failed: 1 });

    const rows = await runRows(stream);
    assert.equal(rows.length, 2);
    const samples = await scrape(ferry.metricsUrl!);
    for (const outcome of OUTCOMES) {
      assert.equal(value(samples, METRIC.records, { stream, outcome }), rows[0]![outcome] + rows[1]![outcome], `records ${outcome} = sum of run rows`);
    }
    assert.equal(value(samples, METRIC.runs, { stream, status: 'succeeded' }), 2);
    assert.equal(value(samples, `${METRIC.runDuration}_count`, { stream, status: 'succeeded' }), 2);
    assert.equal(await deadLetterCount(stream), 4);
    assert.equal(value(samples, METRIC.deadLetters, { stream }), 4, 'dead-letter gauge follows the table');
    assert.equal(value(samples, METRIC.lastSuccess, { stream }), rows[1]!.finished_at.getTime() / 1000);

    // a retried finishRun writes the same outcome again but does not count as a second transition
    const { rows: ids } = await h.db.pool.query(`select id from ferry_runs where stream = $1 order by started_at desc limit 1`, [stream]);
    const again = await finishRun(ferry.db, ids[0].id, { status: 'succeeded', counts: summary.counts, batches: summary.batches });
    assert.equal(again?.transitioned, false);
    assert.equal(again?.run.status, 'succeeded');
  });

  it('counts a failed run', async () => {
    await assert.rejects(h.run({ stream: broken }), /no_such_table|failed/);
    const [row] = await runRows(broken);
    assert.equal(row?.status, 'failed');
    const samples = await scrape(ferry.metricsUrl!);
    assert.equal(value(samples, METRIC.runs, { stream: broken, status: 'failed' }), 1);
    assert.equal(value(samples, METRIC.runs, { stream: broken, status: 'succeeded' }), 0);
    assert.equal(value(samples, METRIC.lastSuccess, { stream: broken }), undefined);
  });

  it("measures a snapshot stream's lag from its last successful run", async () => {
    const summary = await h.run({ stream: snapshot });
    assert.equal(summary.status, 'succeeded');
    assert.equal((await h.db.pool.query(`select 1 from ferry_checkpoints where stream = $1`, [snapshot])).rowCount, 0, 'no checkpoint');
    const [row] = await runRows(snapshot);
    const [state] = await readStreamStates(ferry.db, [{ name: snapshot }]);
    assert.equal(state?.lagBasis, 'last-success');
    assert.equal(state?.syncedUpTo?.getTime(), row!.started_at.getTime());
    const samples = await scrape(ferry.metricsUrl!);
    const lag = value(samples, METRIC.lag, { stream: snapshot })!;
    const expected = (Date.now() - row!.started_at.getTime()) / 1000;
    assert.ok(lag > 0 && Math.abs(lag - expected) < 5, `lag ${lag} ≈ ${expected}`);
    assert.equal(value(samples, METRIC.records, { stream: snapshot, outcome: 'created' }), 5);
  });

  it('ferry stats --json gives success rate, records exported, pending and average sync time from the run rows', async () => {
    const res = await runCli(h, ['stats', '--json'], stream, tables);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    const good = await runRows(stream);
    const bad = await runRows(broken);
    const snap = await runRows(snapshot);
    const all = [...good, ...bad, ...snap];
    assert.deepEqual(report.total.runs, { finished: 4, succeeded: 3, warning: 0, failed: 1, cancelled: 0 });
    assert.equal(report.total.successRate, 3 / 4);
    const exported = all.reduce((n, r) => n + r.created + r.updated + r.deleted, 0);
    assert.equal(report.total.records.exported, exported);
    assert.equal(exported, 25 + 6 + 5);
    const succeeded = [...good, ...snap];
    const avg = succeeded.reduce((n, r) => n + r.seconds, 0) / succeeded.length;
    assert.ok(Math.abs(report.total.averageSyncSeconds - avg) < 0.001, `average ${report.total.averageSyncSeconds} = ${avg}`);
    assert.equal(report.total.pending.deadLetters, await deadLetterCount(stream));

    const mine = report.streams.find((s: { stream: string }) => s.stream === stream);
    assert.equal(mine.successRate, 1);
    assert.equal(mine.deadLetters, 4);
    assert.equal(mine.lagBasis, 'cursor');
    assert.equal(typeof mine.lagSeconds, 'number');
    assert.equal(mine.lastSuccessAt, good[1]!.finished_at.toISOString());
    // the broken stream is not in the CLI's config but has runs in the window
    const theirs = report.streams.find((s: { stream: string }) => s.stream === broken);
    assert.equal(theirs.successRate, 0);
    assert.equal(theirs.lastSuccessAt, null);
  });

  it('ferry stats --since leaves out runs that finished before the window, and prints the four figures', async () => {
    await h.db.pool.query(`update ferry_runs set started_at = now() - interval '3 days', finished_at = now() - interval '3 days' + interval '1 second' where stream = $1`, [broken]);
    const day = JSON.parse((await runCli(h, ['stats', '--json', '--since', '24h'], stream, tables)).stdout);
    assert.deepEqual(day.total.runs, { finished: 3, succeeded: 3, warning: 0, failed: 0, cancelled: 0 });
    assert.equal(day.total.successRate, 1);
    const week = JSON.parse((await runCli(h, ['stats', '--json', '--since', '7d'], stream, tables)).stdout);
    assert.equal(week.total.runs.finished, 4);

    const text = await runCli(h, ['stats', '--since', '7d'], stream, tables);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /success rate\s+75\.0%\s+\(3 of 4 runs succeeded; 1 failed\)/);
    assert.match(text.stdout, /records exported\s+36 /);
    assert.match(text.stdout, /pending\s+4 dead letters; max lag/);
    assert.match(text.stdout, /average sync time\s+\d+\.\ds/);
    assert.ok(text.stdout.includes(stream));

    const bad = await runCli(h, ['stats', '--since', 'yesterday'], stream, tables);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since/);
  });

  it('every metric the Grafana dashboard queries exists in a real scrape', async () => {
    const dashboard = JSON.parse(await readFile(`${repoRoot}/deploy/grafana/dashboards/ferry.json`, 'utf8'));
    const queries: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if ((k === 'expr' || k === 'query' || k === 'definition') && typeof v === 'string') queries.push(v);
          else if (k === 'query' && v && typeof v === 'object' && typeof (v as { query?: unknown }).query === 'string') queries.push((v as { query: string }).query);
          walk(v);
        }
      }
    };
    walk(dashboard);
    assert.ok(queries.length >= 10, `the dashboard has queries (${queries.length})`);
    const used = new Set(queries.flatMap((q) => q.match(/\b(?:ferry|temporal|process|nodejs)_[a-z0-9_]+/g) ?? []));

    const names = new Set([...(await scrape(ferry.metricsUrl!)), ...(await scrape(sdkUrl))].map((s) => s.name));
    const missing = [...used].filter((n) => !names.has(n));
    assert.deepEqual(missing, [], `metrics the dashboard uses but no scrape has: ${missing.join(', ')}`);
    // and the dashboard shows every metric ferry defines
    for (const name of Object.values(METRIC)) {
      assert.ok([...used].some((u) => u === name || u.startsWith(`${name}_`)), `the dashboard uses ${name}`);
    }
    assert.ok([...used].some((n) => n.startsWith('temporal_')), 'the dashboard shows Temporal SDK worker metrics');
  });

  it('the metrics endpoint answers 404 elsewhere and stops with the worker', async () => {
    const other = await fetch(ferry.metricsUrl!.replace('/metrics', '/other'));
    assert.equal(other.status, 404);
    await other.text();
    await stopWorker();
    await assert.rejects(fetch(ferry.metricsUrl!), 'closed with the worker');
  });
});

describe('metrics settings and cursor timestamps', () => {
  it('reads the ports from the environment: defaults, off, errors', () => {
    assert.deepEqual(metricsSettings({}), { ferry: { port: 9464, host: '127.0.0.1' }, sdk: { port: 9465, host: '127.0.0.1' } });
    assert.deepEqual(metricsSettings({ FERRY_METRICS_PORT: 'off', FERRY_SDK_METRICS_PORT: '0' }), { ferry: false, sdk: false });
    assert.deepEqual(metricsSettings({ FERRY_METRICS_PORT: '9100', FERRY_METRICS_HOST: '127.0.0.1' }).ferry, { port: 9100, host: '127.0.0.1' });
    assert.throws(() => metricsSettings({ FERRY_METRICS_PORT: '70000' }), ConfigurationError);
    assert.throws(() => metricsSettings({ FERRY_METRICS_PORT: 'abc' }), ConfigurationError);
    assert.throws(() => metricsSettings({ FERRY_METRICS_PORT: '9465' }), /different ports/);
  });

  it('says in one line that a metrics port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await assert.rejects(
        startMetricsServer({ contentType: 'text/plain', metrics: async () => '' }, { port }),
        (err: Error) => err instanceof ConfigurationError && err.message === `metrics port ${port} on 127.0.0.1 is taken (another worker on this machine?) (set FERRY_METRICS_PORT to a free port, or off)`,
      );
    } finally {
      taken.close();
    }
  });

  it('parses timestamp cursor values as Postgres prints them', () => {
    assert.equal(parsePgTimestamp('2026-01-01 00:00:00.000030+00')?.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(parsePgTimestamp('2026-03-04 05:06:07.891234+05:30')?.toISOString(), '2026-03-03T23:36:07.891Z');
    assert.equal(parsePgTimestamp('2026-03-04 05:06:07-08')?.toISOString(), '2026-03-04T13:06:07.000Z');
    assert.equal(parsePgTimestamp('2026-03-04T05:06:07.5Z')?.toISOString(), '2026-03-04T05:06:07.500Z');
    assert.equal(parsePgTimestamp('2026-03-04 05:06:07')?.toISOString(), '2026-03-04T05:06:07.000Z', 'no zone: UTC');
    assert.equal(parsePgTimestamp('12345'), null);
    assert.equal(parsePgTimestamp('infinity'), null);
  });
});
