// ferry installs and runs as compiled JavaScript, with no TypeScript toolchain:
// a copy of this checkout gets `npm ci`, `npm run build`, then `npm prune
// --omit=dev` (no tsx, no typescript); a user project next to it installs
// ferry and ITS OWN zod, writes a TypeScript config importing from 'ferry',
// and `node dist/worker.js` + `ferry run --wait` sync a table.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCustomerTables, seedCustomers } from './support/customers.js';
import { createHarness, repoRoot, type Harness } from './support/harness.js';

const exec = promisify(execFile);

/** A command's environment without what node's test runner and tsx tell their children. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, NODE_OPTIONS: _options, ...env } = process.env;
  return { ...env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
}

async function sh(cwd: string, command: string, args: string[], env = plainEnv()): Promise<string> {
  const { stdout, stderr } = await exec(command, args, { cwd, env, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 });
  return stdout + stderr;
}

const USER_CONFIG = `
import { z } from 'zod';
import { defineConfig, defineStream, postgresSource, postgresTarget } from 'ferry';

const url = process.env.DATABASE_URL as string;
const customer = z.object({ id: z.string(), email: z.string(), name: z.string(), score: z.number().int() });

export default defineConfig({
  streams: [
    defineStream({
      name: process.env.FERRY_TEST_STREAM as string,
      source: postgresSource({ url, table: process.env.FERRY_TEST_SOURCE_TABLE as string, system: 'crm' }),
      schema: customer,
      map: (c) => ({ kind: 'customer', fields: { customer_id: c.id, email: c.email, name: c.name, score: c.score, source_updated_at: '2026-01-01T00:00:00Z' } }),
      target: postgresTarget({ url, table: process.env.FERRY_TEST_TARGET_TABLE as string, key: 'customer_id', idColumn: 'id', system: 'app' }),
      key: 'id',
    }),
  ],
});
`;

describe('installed without dev dependencies', () => {
  let h: Harness;
  let dir: string;
  let pkg: string;
  let tables: { source: string; target: string };

  before(async () => {
    h = await createHarness('install');
    tables = await createCustomerTables(h.db.pool);
    await seedCustomers(h.db.pool, tables.source, 40);
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ferry-install-')));
    pkg = path.join(dir, 'ferry');
    mkdirSync(pkg);
    // the checkout as it is: tracked files and new ones git does not ignore
    const files = (await sh(repoRoot, 'git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).split('\0').filter((f) => f && existsSync(path.join(repoRoot, f)));
    for (let i = 0; i < files.length; i += 500) await sh(repoRoot, 'cp', ['--parents', '-t', pkg, ...files.slice(i, i + 500)]);
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  it('builds, drops its dev dependencies, and runs a TypeScript config with the user\'s own zod', async () => {
    await sh(pkg, 'npm', ['ci', '--prefer-offline']);
    await sh(pkg, 'npm', ['run', 'build']);
    await sh(pkg, 'npm', ['prune', '--omit=dev', '--prefer-offline']);
    assert.equal(existsSync(path.join(pkg, 'node_modules', 'tsx')), false, 'tsx is gone');
    assert.equal(existsSync(path.join(pkg, 'node_modules', 'typescript')), false, 'typescript is gone');
    assert.match(await sh(pkg, process.execPath, ['bin/ferry.js', '--version']), /^\d+\.\d+\.\d+/);

    const user = path.join(dir, 'user');
    mkdirSync(user);
    writeFileSync(path.join(user, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    await sh(user, 'npm', ['install', '--prefer-offline', '../ferry', 'zod@4']);
    assert.ok(existsSync(path.join(user, 'node_modules', 'zod', 'package.json')), 'the user project has a zod of its own');
    writeFileSync(path.join(user, 'ferry.config.ts'), USER_CONFIG);

    const stream = h.name('installed.customers');
    const env = plainEnv({
      FERRY_CONFIG: path.join(user, 'ferry.config.ts'),
      DATABASE_URL: h.db.url,
      TEMPORAL_ADDRESS: h.settings.address,
      FERRY_TASK_QUEUE: h.settings.taskQueue,
      FERRY_METRICS_PORT: 'off',
      FERRY_SDK_METRICS_PORT: 'off',
      FERRY_TEST_STREAM: stream,
      FERRY_TEST_SOURCE_TABLE: tables.source,
      FERRY_TEST_TARGET_TABLE: tables.target,
    });
    const worker = spawn(process.execPath, ['dist/worker.js'], { cwd: pkg, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    worker.stdout.on('data', (d: Buffer) => (log += d.toString('utf8')));
    worker.stderr.on('data', (d: Buffer) => (log += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));
    try {
      for (let i = 0; i < 240 && !log.includes('ferry worker running'); i++) {
        assert.equal(worker.exitCode, null, `the worker exited: ${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(log, /ferry worker running/);
      const run = await sh(user, process.execPath, [path.join(pkg, 'bin', 'ferry.js'), 'run', stream, '--wait'], env);
      assert.match(run, /succeeded/);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    const { rows } = await h.db.pool.query<{ n: number }>(
      `select count(*)::int as n from ${tables.source} s join ${tables.target} t on t.customer_id = s.id and t.email = s.email and t.name = s.name and t.score = s.score`,
    );
    assert.equal(rows[0]?.n, 40, 'every source row arrived');
  });
});
