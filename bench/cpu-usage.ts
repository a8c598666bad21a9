// CPU time a run costs the machine, by process group, from /proc: the worker(s),
// Postgres (every `postgres` process: backends, WAL writer, checkpointer),
// the Temporal dev server, and the rest of the machine's busy time (psql and the
// peers' processes, the bench itself, other load). On a 2-core machine where
// every tool saturates both cores, CPU seconds show where the wall goes better
// than the wall does, and vary less with other load on a shared host.
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';

export interface CpuUsage {
  /** the machine's busy CPU time over the run (all cores; /proc/stat), seconds */
  busy: number;
  /** the ferry worker processes (utime + stime), seconds */
  worker: number;
  /** every `postgres` process, seconds */
  postgres: number;
  /** the Temporal dev server, seconds */
  temporal: number;
  /**
   * The worker processes' threads, seconds: `main` (JavaScript: activities,
   * the pg client, and the garbage collector's work on that thread),
   * `node helpers` (V8's background threads: parallel and concurrent garbage
   * collection, compiling; libuv's pool), `tokio-runtime-w` (Temporal's Rust
   * core: polling, gRPC).
   */
  workerThreads: Record<string, number>;
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** busy ticks of all cores (not idle, not waiting for I/O; time stolen by the hypervisor is not counted) */
async function machineTicks(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line.split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq;
}

interface ProcessTicks {
  comm: string;
  /** utime + stime: the process's own, all its threads */
  own: number;
  /** cutime + cstime: of its children it has reaped (the postmaster: closed connections' backends) */
  reaped: number;
}

/** CPU ticks of every process. */
async function processTicks(): Promise<Map<number, ProcessTicks>> {
  const out = new Map<number, ProcessTicks>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid … : comm may hold spaces and parentheses, so split after the last ')'
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(entry), { comm, own: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]) });
    } catch {
      // the process exited while the directory was read
    }
  }
  return out;
}

/** utime + stime of each thread of the processes, by the names `workerThreads` uses */
async function threadTicks(pids: readonly number[]): Promise<Map<string, { name: string; ticks: number }>> {
  const out = new Map<string, { name: string; ticks: number }>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = await readdir(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close).replace(/\d+$/, '').trim();
        // Node names all its threads `node`: the main one is the thread whose id is the process's.
        const name = tid === String(pid) ? 'main' : comm === 'node' ? 'node helpers' : comm;
        const fields = stat.slice(close + 2).split(' ');
        out.set(`${pid}/${tid}`, { name, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // the thread ended while the directory was read
      }
    }
  }
  return out;
}

/** How long a meter waits before its last reading. */
const SETTLE_MS = 250;

export interface CpuMeter {
  /** the usage since the meter started (read after a short settle: busy includes it) */
  stop(): Promise<CpuUsage>;
}

/** Starts measuring; `workerPids` are the ferry worker processes of the run (none for a baseline). */
export async function startCpuMeter(workerPids: readonly number[]): Promise<CpuMeter> {
  const [machine0, procs0, threads0] = await Promise.all([machineTicks(), processTicks(), threadTicks(workerPids)]);
  return {
    async stop() {
      // A backend whose client just disconnected (psql) exits a moment later and is reaped then: wait for it.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const [machine1, procs1, threads1] = await Promise.all([machineTicks(), processTicks(), threadTicks(workerPids)]);
      const workerThreads: Record<string, number> = {};
      for (const [id, t] of threads1) workerThreads[t.name] = (workerThreads[t.name] ?? 0) + (t.ticks - (threads0.get(id)?.ticks ?? 0)) / TICKS_PER_SECOND;
      const group = { worker: 0, postgres: 0, temporal: 0 };
      const groupOf = (pid: number, p: ProcessTicks): keyof typeof group | undefined =>
        workerPids.includes(pid) ? 'worker' : p.comm === 'postgres' ? 'postgres' : p.comm === 'temporal' ? 'temporal' : undefined;
      for (const [pid, p] of procs1) {
        const g = groupOf(pid, p);
        const before = procs0.get(pid);
        // A child reaped during the run adds its whole life to its parent's `reaped`; the part
        // before the run is taken off below. Children of a group's process are in that group
        // (a postmaster's backends).
        if (g) group[g] += p.own - (before?.own ?? 0) + p.reaped - (before?.reaped ?? 0);
      }
      for (const [pid, p] of procs0) {
        const g = groupOf(pid, p);
        if (g && !procs1.has(pid)) group[g] -= p.own;
      }
      const s = (ticks: number) => ticks / TICKS_PER_SECOND;
      return {
        busy: s(machine1 - machine0),
        worker: s(group.worker),
        postgres: s(group.postgres),
        temporal: s(group.temporal),
        workerThreads,
      };
    },
  };
}
