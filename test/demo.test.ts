// README's first command, `npm run demo` (scripts/demo.sh), on both of its
// database paths: with no DATABASE_URL and no PostgreSQL reachable it runs on
// an embedded PostgreSQL (PGlite) in its own process; with DATABASE_URL it uses
// that server. Each run syncs, changes the source, syncs again and makes a
// full pass, and checks the target against the source itself (exit code 0 and
// "target matches source" only when every check passed). A run that only got
// there through retries fails too: its output must hold no warning or error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { repoRoot } from './support/harness.js';

// Six batches of 5,000: the next batch is fetched and staged while one is
// written, so connections overlap on the embedded PostgreSQL's one session
// with staged batches big enough to reach it in several TCP reads.
const ROWS = 30_000;

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

/**
 * The lines of the worker's log blocks at warning level or above: the SDK's
 * ("… [WARN] Activity failed {", "[ERROR]") and ferry's (pino JSON, level 40+).
 */
function warningLines(output: string): string[] {
  return output.split('\n').filter((line) => /\[(WARN|ERROR)\]|Activity failed|"level":\s*[4-6]0\b/.test(line));
}

function assertDemoPassed(result: DemoResult): void {
  assert.equal(result.code, 0, `demo exit code\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  const warnings = warningLines(`${result.stdout}\n${result.stderr}`);
  assert.deepEqual(warnings, [], `the demo logged ${warnings.length} warning/error line(s):\n${result.stdout.slice(0, 6_000)}\nstderr:\n${result.stderr.slice(0, 6_000)}`);
  assert.match(result.stdout, /target matches source/);
  const runs = runTable(result.stdout);
  assert.deepEqual([...runs.keys()], ['1 first sync', '2 after changes', '3 full pass']);
  assert.equal(runs.get('1 first sync')?.created, ROWS.toLocaleString('en-US'));
  assert.equal(runs.get('3 full pass')?.status, 'succeeded');
  // ids 2, 52, 102 … of 3,000 rows are deleted in step 4, and mirror-deleted by the full pass
  assert.equal(runs.get('3 full pass')?.deleted, String(ROWS / 50));
}

describe('the demo\'s embedded PostgreSQL', () => {
  // Fails by timing out, too: the socket server's queue can stall once exchanges mix.
  it('keeps each connection\'s exchanges and transactions whole on its one session', { timeout: 120_000 }, async () => {
    const embedded = await startEmbeddedPostgres();
    const pool = new pg.Pool({ connectionString: embedded.url, max: 8 });
    try {
      await pool.query('create table big (a int, b int, c int, d int, e int, payload text)');
      await pool.query('create table tx (n int)');
      // A 2 MB Bind reaches the server in many reads; the session's one unnamed statement must
      // still be this exchange's Parse when it arrives, not a reader's (3 parameters, not 6).
      const payload = 'x'.repeat(2_000_000);
      let writing = true;
      const errors: string[] = [];
      // An error that reaches an idle connection (a reply meant for another exchange) counts too.
      pool.on('error', (err) => errors.push(`idle connection: ${err.message}`));
      const guard = <T>(work: Promise<T>) => work.catch((err: unknown) => void errors.push(err instanceof Error ? err.message : String(err)));
      const writer = async () => {
        for (let i = 0; i < 3; i++) await guard(pool.query('insert into big values ($1, $2, $3, $4, $5, $6)', [i, 2, 3, 4, 5, payload]));
      };
      let reads = 0;
      const reader = async () => {
        while (writing) {
          await guard(pool.query('select $1::int + $2::int + $3::int as sum', [1, 2, 3]));
          reads += 1;
        }
      };
      // Two connections' transactions never share the session's transaction: each sees only its own row.
      const transactions = async (id: number) => {
        while (writing) {
          const c = await pool.connect();
          try {
            await c.query('begin');
            await c.query('insert into tx values ($1)', [id]);
            const { rows } = await c.query<{ n: string }>('select count(*) as n from tx');
            if (rows[0]?.n !== '1') errors.push(`transaction ${id} saw ${rows[0]?.n} rows, expected its own 1`);
            await c.query('delete from tx where n = $1', [id]);
            await c.query('commit');
          } finally {
            c.release();
          }
        }
      };
      const others = [reader(), reader(), guard(transactions(1)), guard(transactions(2))];
      await Promise.all([writer(), writer()]);
      writing = false;
      await Promise.all(others);
      assert.deepEqual(errors, []);
      assert.ok(reads > 0, 'the readers ran beside the writers');
      const { rows } = await pool.query<{ n: string; bytes: string }>('select count(*) as n, sum(length(payload)) as bytes from big');
      assert.deepEqual(rows[0], { n: '6', bytes: String(6 * payload.length) });
    } finally {
      await pool.end();
      await embedded.stop();
    }
  });
});

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
