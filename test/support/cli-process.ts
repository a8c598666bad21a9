import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './harness.js';
import { fixturePath, repoRoot } from './harness.js';

/**
 * A `ferry` CLI process the test can talk to while it runs: read what it
 * printed so far, wait for a line, type into it, signal it. With `tty: true` it
 * runs on a pseudo-terminal (util-linux `script`), as in a person's terminal:
 * stdin, stdout and stderr are the terminal (so stdout and stderr arrive
 * merged, in `output`), and a typed Ctrl-C (\x03) becomes SIGINT from the
 * terminal driver, as it does for a person.
 */
export interface CliProcess {
  readonly pid: number;
  /** stdout so far (with tty: everything the terminal showed) */
  readonly stdout: string;
  /** stderr so far (empty with tty) */
  readonly stderr: string;
  /** everything so far, stdout then stderr */
  readonly output: string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** types into stdin (tty only) */
  type(text: string): void;
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CliProcessOptions {
  /** config file under test/fixtures (default cli-pair.config.ts) */
  config?: string;
  env?: Record<string, string>;
  tty?: boolean;
  /** the process is killed after this long (default 90 s) */
  timeoutMs?: number;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function startCli(h: Harness, args: readonly string[], options: CliProcessOptions = {}): CliProcess {
  // The CLI is a plain program, not a test file: drop what node's test runner tells its children.
  const { NODE_TEST_CONTEXT: _context, ...inherited } = process.env;
  const env = {
    ...inherited,
    FERRY_CONFIG: fixturePath(options.config ?? 'cli-pair.config.ts'),
    DATABASE_URL: h.db.url,
    TEMPORAL_ADDRESS: h.settings.address,
    TEMPORAL_NAMESPACE: h.settings.namespace,
    FERRY_TASK_QUEUE: h.settings.taskQueue,
    ...options.env,
  };
  const command = [process.execPath, 'bin/ferry.js', ...args];
  const child = options.tty
    ? // -e: exit with the child's code; -f: flush output at once; a known terminal width for the bar
      spawn('script', ['-qefc', `stty cols 200 rows 40; exec ${command.map(shellQuote).join(' ')}`, '/dev/null'], { cwd: repoRoot, env: { ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command[0]!, command.slice(1), { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    pid: child.pid!,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get output() {
      return stdout + stderr;
    },
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout + stderr)) {
        if (ended) throw new Error(`ferry ${args.join(' ')} exited before printing ${pattern}; output:\n${stdout}${stderr}`);
        if (Date.now() > deadline) throw new Error(`ferry ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms; output:\n${stdout}${stderr}`);
        await sleep(50);
      }
    },
    type(text) {
      if (!options.tty) throw new Error('type() needs tty: true');
      child.stdin!.write(text);
    },
    signal(signal) {
      child.kill(signal);
    },
    exited,
  };
}

/** Runs the CLI to its end (no terminal): exit code and output. */
export async function cli(h: Harness, args: readonly string[], options: CliProcessOptions = {}) {
  const p = startCli(h, args, options);
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}
