// Every example runs end to end through `npm run example <name>` (scripts/example.sh),
// against the test run's Temporal server, and passes its own checks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './support/harness.js';

const exec = promisify(execFile);

function runExample(...args: string[]): Promise<{ code: number; output: string }> {
  // The example is a plain program, not a test file: drop what node's test runner tells its children.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return exec('bash', ['scripts/example.sh', ...args], { cwd: repoRoot, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
}

const examples = readdirSync(path.join(repoRoot, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(repoRoot, 'examples', d.name, 'example.ts')))
  .map((d) => d.name);

describe('npm run example', () => {
  it('lists every example with its description', async () => {
    const { code, output } = await runExample();
    assert.equal(code, 0, output);
    for (const name of examples) assert.match(output, new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('refuses an unknown example with exit code 2', async () => {
    const { code, output } = await runExample('no-such-example');
    assert.equal(code, 2, output);
    assert.match(output, /unknown example "no-such-example"/);
  });

  for (const name of examples) {
    it(`runs ${name} end to end and its checks pass`, async () => {
      const { code, output } = await runExample(name);
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`example ${name}: ok \\(\\d+ checks`));
      assert.doesNotMatch(output, /^ {2}FAIL /m);
    });
  }
});
