import { spawn } from 'node:child_process';
import { fixturePath, repoRoot, type Harness } from './harness.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/ferry.js ...args` as a real process against the harness's
 * database, Temporal server and task queue, with test/fixtures/cli.config.ts
 * defining `stream` on `tables`.
 */
export function runCli(h: Harness, args: readonly string[], stream: string, tables: { source: string; target: string }, timeoutMs = 90_000): Promise<CliResult> {
  // The CLI is a plain program, not a test file: drop what node's test runner tells its children.
  const { NODE_TEST_CONTEXT: _context, ...inherited } = process.env;
  const env = {
    ...inherited,
    FERRY_CONFIG: fixturePath('cli.config.ts'),
    DATABASE_URL: h.db.url,
    TEMPORAL_ADDRESS: h.settings.address,
    TEMPORAL_NAMESPACE: h.settings.namespace,
    FERRY_TASK_QUEUE: h.settings.taskQueue,
    FERRY_TEST_STREAM: stream,
    FERRY_TEST_SOURCE_TABLE: tables.source,
    FERRY_TEST_TARGET_TABLE: tables.target,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/ferry.js', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ferry ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
