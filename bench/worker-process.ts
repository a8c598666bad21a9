// A ferry worker as a child process (node dist/worker.js, as deployed; BENCH_WORKER_ENTRY=src/worker.ts for the source under tsx), with its
// memory watched from /proc/<pid>/status: VmHWM is the kernel's peak RSS, reset
// to the current RSS before each run by writing 5 to /proc/<pid>/clear_refs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export interface WorkerProcessOptions {
  cwd: string;
  env: Record<string, string>;
  /** where the worker's stdout/stderr go */
  logFile: string;
  /** extra node flags, e.g. --cpu-prof */
  nodeFlags?: string[];
  /** ms to wait for 'ferry worker running' */
  startTimeoutMs?: number;
}

export interface MemoryReading {
  /** kernel peak RSS since the last reset, bytes */
  hwm: number;
  /** highest VmRSS seen by polling, bytes */
  sampledPeak: number;
  /** VmRSS at the end, bytes */
  rss: number;
  /** highest polled VmRSS in each tenth of the run, bytes: flat when memory is bounded */
  byDecile: number[];
}

async function status(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]) * 1024;
  }
  return out;
}

export class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    // As deployed: the compiled worker (npm run build, done by scripts/bench.sh); BENCH_WORKER_ENTRY=src/worker.ts runs the source under tsx.
    const entry = process.env.BENCH_WORKER_ENTRY ?? 'dist/worker.js';
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (!child.pid) throw new Error('could not spawn the worker');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr?.pipe(log);
    const ready = new Promise<void>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`worker did not start within ${options.startTimeoutMs ?? 120_000} ms (see ${options.logFile})`)), options.startTimeoutMs ?? 120_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        buffered += chunk.toString('utf8');
        if (buffered.includes('ferry worker running')) {
          clearTimeout(timer);
          buffered = '';
          resolve();
        } else if (buffered.length > 1e6) buffered = buffered.slice(-1000);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code} before it was ready (see ${options.logFile})`));
      });
    });
    await ready;
    return new WorkerProcess(child, child.pid, exited);
  }

  async rss(): Promise<number> {
    return (await status(this.pid)).VmRSS ?? 0;
  }

  /**
   * Runs `work` and reports the worker's peak memory during it: VmHWM reset
   * before (clear_refs), read after; VmRSS also polled every `everyMs`.
   */
  async measure<T>(work: () => Promise<T>, everyMs = 50): Promise<{ value: T; memory: MemoryReading }> {
    await writeFile(`/proc/${this.pid}/clear_refs`, '5');
    let sampledPeak = await this.rss();
    const samples: [number, number][] = [];
    const t0 = Date.now();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const rss = await this.rss();
          samples.push([Date.now() - t0, rss]);
          sampledPeak = Math.max(sampledPeak, rss);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    try {
      const value = await work();
      const s = await status(this.pid);
      const span = Math.max(1, Date.now() - t0);
      const byDecile = new Array<number>(10).fill(0);
      for (const [at, rss] of samples) {
        const d = Math.min(9, Math.floor((at / span) * 10));
        byDecile[d] = Math.max(byDecile[d] ?? 0, rss);
      }
      return { value, memory: { hwm: s.VmHWM ?? 0, sampledPeak: Math.max(sampledPeak, s.VmRSS ?? 0), rss: s.VmRSS ?? 0, byDecile } };
    } finally {
      polling = false;
      await poller;
    }
  }

  /** SIGTERM (graceful: the worker finishes running activities), SIGKILL after `graceMs`. */
  async stop(graceMs = 40_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
