// Worker processes for crash tests: a real worker in a child process
// (`node --import tsx src/worker.ts`, configured by environment), started,
// SIGKILLed and SIGSTOPped by the test; and the small waiting helpers the
// crash tests share (test/crash.test.ts, test/connector-crash.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixturePath, repoRoot, type Harness } from './harness.js';

/** `promise`, or `onTimeout()` after `ms`; the timer never keeps the process alive. */
export async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => onTimeout().then(resolve, reject), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- worker child processes

/** Worker processes started by this file; whatever happens, each is killed before the file ends. */
export class WorkerChildren {
  private readonly alive = new Set<ChildProcess>();
  started = 0;
  current: ChildProcess | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    // Backstop for a runner that exits without running after().
    process.once('exit', () => {
      for (const child of this.alive) child.kill('SIGKILL');
    });
  }

  /** Starts `node --import tsx src/worker.ts` and waits until it polls its task queue. */
  async start(): Promise<ChildProcess> {
    const n = ++this.started;
    appendFileSync(this.logFile, `\n===== worker #${n} started ${new Date().toISOString()} =====\n`);
    const from = statSync(this.logFile).size;
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: repoRoot, env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.alive.add(child);
    this.current = child;
    child.once('exit', () => this.alive.delete(child));

    const deadline = Date.now() + 60_000;
    for (;;) {
      const log = readFileSync(this.logFile).subarray(from).toString('utf8');
      if (log.includes('"msg":"ferry worker running"')) return child;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`worker #${n} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log.slice(-3000)}`);
      }
      if (Date.now() > deadline) throw new Error(`worker #${n} not ready after 60s; log ${this.logFile}:\n${log.slice(-3000)}`);
      await sleep(100);
    }
  }

  /** SIGKILL (nothing runs after it: no shutdown hook, no grace time) and wait for the exit. */
  async kill(child = this.current): Promise<void> {
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    if (this.current === child) this.current = undefined;
  }

  /** Freezes the process: it can no longer answer Temporal or read what Postgres sends it. */
  stop(child = this.current): void {
    child?.kill('SIGSTOP');
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.alive].map((child) => this.kill(child)));
  }
}

/** The child is a plain worker, not a test file: drop what node's test runner tells its own children. */
export function withoutTestRunnerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...rest } = env;
  return rest;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The environment of a worker child for this harness: its state store, Temporal server, namespace
 * and task queue, the config fixture, and metrics off (a killed worker's successor would find the
 * ports taken for a moment); `extra` adds the fixture's own settings.
 */
export function workerChildEnv(h: Harness, fixture: string, extra: NodeJS.ProcessEnv = {}, taskQueue = h.settings.taskQueue): NodeJS.ProcessEnv {
  return {
    ...withoutTestRunnerEnv(process.env),
    DATABASE_URL: h.db.url,
    TEMPORAL_ADDRESS: h.settings.address,
    TEMPORAL_NAMESPACE: h.settings.namespace,
    FERRY_TASK_QUEUE: taskQueue,
    FERRY_CONFIG: fixturePath(fixture),
    FERRY_METRICS_PORT: 'off',
    FERRY_SDK_METRICS_PORT: 'off',
    ...extra,
  };
}
