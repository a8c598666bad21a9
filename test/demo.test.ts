// README's first command, `npm run demo` (scripts/demo.sh), on both of its
// database paths: with no DATABASE_URL and no PostgreSQL reachable it runs on
// an embedded PostgreSQL (PGlite) in its own process; with DATABASE_URL it uses
// that server. Each run syncs, changes the source, syncs again and makes a
// full pass, and checks the target against the source itself (exit code 0 and
// "target matches source" only when every check passed).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { repoRoot } from './support/harness.js';

const ROWS = 3_000;

interface DemoResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(env: NodeJS.ProcessEnv): Promise<DemoResult> {
  const { DATABASE_URL: _inherited, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/demo.sh'], {
      cwd: repoRoot,
      env: { ...base, FERRY_DEMO_ROWS: String(ROWS), FERRY_TASK_QUEUE: `ferry-test-demo-${randomBytes(3).toString('hex')}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The counts table the demo prints: run label -> its columns. */
function runTable(stdout: string): Map<string, Record<string, string>> {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^\s+run\s+mode\s+status/.test(l));
  assert.ok(start >= 0, `no runs table in:\n${stdout}`);
  const header = (lines[start] ?? '').trim().split(/\s{2,}/);
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(start + 2)) {
    if (!line.trim()) break;
    const cells = line.trim().split(/\s{2,}/);
    rows.set(cells[0] ?? '', Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

function assertDemoPassed(result: DemoResult): void {
  assert.equal(result.code, 0, `demo exit code\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.match(result.stdout, /target matches source/);
  const runs = runTable(result.stdout);
  assert.deepEqual([...runs.keys()], ['1 first sync', '2 after changes', '3 full pass']);
  assert.equal(runs.get('1 first sync')?.created, ROWS.toLocaleString('en-US'));
  assert.equal(runs.get('3 full pass')?.status, 'succeeded');
  // ids 2, 52, 102 … of 3,000 rows are deleted in step 4, and mirror-deleted by the full pass
  assert.equal(runs.get('3 full pass')?.deleted, String(ROWS / 50));
}

describe('npm run demo', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('demo');
  });
  after(() => db.drop());

  it('with no DATABASE_URL and no PostgreSQL reachable: runs on an embedded PostgreSQL (PGlite) in its process', async () => {
    // Port 1 has no PostgreSQL: the demo must not try to install or start one, but embed its own.
    const result = await runDemo({ FERRY_LOCAL_POSTGRES: '127.0.0.1:1' });
    assertDemoPassed(result);
    assert.match(result.stderr, /no PostgreSQL at 127\.0\.0\.1:1: using an embedded PostgreSQL \(PGlite\)/);
    assert.match(result.stdout, /database {2}postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres — embedded PostgreSQL \(PGlite\) in this process/);
  });

  it('with DATABASE_URL: uses that server, where its tables and state stay afterwards', async () => {
    const result = await runDemo({ DATABASE_URL: db.url });
    assertDemoPassed(result);
    assert.ok(result.stdout.includes(`database  ${db.url}`), result.stdout);
    const { rows } = await db.pool.query<{ target: string; runs: string }>(
      `select (select count(*) from demo_app_customers) as target, (select count(*) from ferry_runs where stream = 'demo.customers') as runs`,
    );
    assert.deepEqual(rows[0], { target: String(ROWS - ROWS / 50 + ROWS / 100), runs: '3' });
  });
});
