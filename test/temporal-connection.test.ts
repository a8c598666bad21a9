// ferry reaches any Temporal cluster the Temporal way: TEMPORAL_* variables and
// CLI config profiles (TLS with a server CA and a client certificate, API key,
// namespace). The dev server serves no TLS, so a TLS-terminating forwarder that
// requires a client certificate stands in front of it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { msToTs } from '@temporalio/common/lib/time.js';
import { StreamRegistry } from '../src/config/load-config.js';
import { connectClient, temporalSettings, type TemporalSettings } from '../src/temporal.js';
import { createFerryWorker } from '../src/worker.js';
import { cli } from './support/cli-process.js';
import { createCustomerTables, customerStream, seedCustomers, sourceRows, targetRows } from './support/customers.js';
import { createHarness, workflowBundlePath, type Harness } from './support/harness.js';
import { makeCertificates, startTlsForwarder, type TestCertificates } from './support/tls-forwarder.js';

/** Registered by scripts/test.sh (--namespace) when it starts the dev server; registered here otherwise. */
const SECOND_NAMESPACE = 'ferry-test-second';

describe('connecting to a Temporal cluster', () => {
  let h: Harness;
  let certs: TestCertificates;
  let forwarder: Awaited<ReturnType<typeof startTlsForwarder>>;
  let tables: { source: string; target: string };

  before(async () => {
    h = await createHarness('temporal-connection');
    certs = makeCertificates();
    forwarder = await startTlsForwarder(h.settings.address, certs);
    tables = await createCustomerTables(h.db.pool);
    await seedCustomers(h.db.pool, tables.source, 25);
  });
  after(async () => {
    await forwarder?.close();
    certs?.remove();
    await h?.close();
  });

  /** TEMPORAL_* variables for the forwarder: mutual TLS with the test CA. */
  const mtlsEnv = (ca = certs.caCert): Record<string, string> => ({
    TEMPORAL_ADDRESS: forwarder.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    // the name the server certificate holds (an IP as TLS server name is deprecated in Node)
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  const cliEnv = (stream: string, extra: Record<string, string>) => ({
    FERRY_TEST_STREAM: stream,
    FERRY_TEST_SOURCE_TABLE: tables.source,
    FERRY_TEST_TARGET_TABLE: tables.target,
    ...extra,
  });

  /** Runs a worker with these settings until `work` is done. */
  async function withWorker(settings: TemporalSettings, stream: string, work: () => Promise<void>): Promise<void> {
    const worker = await createFerryWorker({
      settings,
      streams: new StreamRegistry([customerStream(stream, h.db.url, tables)]),
      databaseUrl: h.db.url,
      ...(workflowBundlePath() ? { workflowBundlePath: workflowBundlePath() } : {}),
    });
    const running = worker.run();
    try {
      await work();
    } finally {
      worker.shutdown();
      await running;
    }
  }

  it('runs a stream with the worker and the CLI both connected through mutual TLS', async () => {
    const stream = h.name('tls.customers');
    const settings = temporalSettings({ ...mtlsEnv(), FERRY_TASK_QUEUE: h.settings.taskQueue });
    assert.equal(settings.address, forwarder.address);
    await withWorker(settings, stream, async () => {
      const run = await cli(h, ['run', stream, '--wait'], { config: 'cli.config.ts', env: cliEnv(stream, mtlsEnv()) });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /succeeded/);
    });
    assert.deepEqual(await targetRows(h.db.pool, tables.target), await sourceRows(h.db.pool, tables.source));
    assert.ok(forwarder.accepted() >= 2, 'the worker and the CLI both came through the forwarder');
  });

  it('fails with one clear line when the server certificate is signed by another CA', async () => {
    const stream = h.name('tls.x');
    const run = await cli(h, ['run', stream], { config: 'cli.config.ts', env: cliEnv(stream, mtlsEnv(certs.otherCaCert)) });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`cannot connect to Temporal at ${forwarder.address.replace(/\./g, '\\.')} \\(namespace "default", TLS on\\)`));
    assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  });

  it('fails with one clear line without a client certificate', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noClientCert } = mtlsEnv();
    const settings = temporalSettings({ ...noClientCert, FERRY_TASK_QUEUE: h.settings.taskQueue });
    await assert.rejects(connectClient(settings), (err: Error) => {
      assert.equal(err.name, 'TemporalUnreachableError');
      assert.match(err.message, /cannot connect to Temporal at .* TLS on/);
      return true;
    });
  });

  it('reads a Temporal CLI config profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)', async () => {
    const file = path.join(certs.dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.secure]',
        `address = "${forwarder.address}"`,
        'namespace = "default"',
        '[profile.secure.tls]',
        `server_ca_cert_path = "${certs.caCert}"`,
        `client_cert_path = "${certs.clientCert}"`,
        `client_key_path = "${certs.clientKey}"`,
        'server_name = "localhost"',
        '',
      ].join('\n'),
    );
    const settings = temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'secure' });
    assert.equal(settings.address, forwarder.address);
    const { client, close } = await connectClient(settings);
    try {
      const info = await client.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion, 'the server answered through the profile');
    } finally {
      await close();
    }
    assert.throws(() => temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }), /cannot read the Temporal connection settings \(profile "nope"\)/);
  });

  it('runs a stream in a second namespace (TEMPORAL_NAMESPACE)', async () => {
    await ensureNamespace(h, SECOND_NAMESPACE);
    const stream = h.name('ns.customers');
    const settings = temporalSettings({ TEMPORAL_ADDRESS: h.settings.address, TEMPORAL_NAMESPACE: SECOND_NAMESPACE, FERRY_TASK_QUEUE: h.settings.taskQueue });
    assert.equal(settings.namespace, SECOND_NAMESPACE);
    await withWorker(settings, stream, async () => {
      const run = await cli(h, ['run', stream, '--full', '--wait'], { config: 'cli.config.ts', env: cliEnv(stream, { TEMPORAL_NAMESPACE: SECOND_NAMESPACE }) });
      assert.equal(run.code, 0, run.stderr);
    });
    const { client, close } = await connectClient(settings);
    try {
      const described = await client.workflow.getHandle(stream).describe();
      assert.equal(described.status.name, 'COMPLETED');
    } finally {
      await close();
    }
    await assert.rejects(h.client.workflow.getHandle(stream).describe(), /not found/i, 'the run is not in the default namespace');
  });
});

/** The dev server knows the namespace when scripts/test.sh started it; a server given by TEMPORAL_ADDRESS may not. */
async function ensureNamespace(h: Harness, namespace: string): Promise<void> {
  const service = h.client.workflowService;
  const exists = () => service.describeNamespace({ namespace }).then(() => true, () => false);
  if (await exists()) return;
  await service.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') }).catch(() => undefined);
  for (let i = 0; i < 60 && !(await exists()); i++) await sleep(500);
}
