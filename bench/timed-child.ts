// Runs one command as a child process and measures it from the outside: wall time
// (spawn → exit) and peak RSS from GNU time's %M, i.e. the kernel's ru_maxrss of the
// child, which Linux folds in from every descendant it reaped: the peak of the
// largest single process of the tree (the COPY pipe's psql, Sling's binary, dlt's
// Python), not their sum.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const GNU_TIME = '/usr/bin/time';

export interface TimedChild {
  wallMs: number;
  /** bytes; 0 when /usr/bin/time is missing */
  peakRss: number;
  stdout: string;
  stderr: string;
}

export class ChildFailed extends Error {
  constructor(
    readonly what: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${what} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
}

/** Whether peak RSS of children can be measured (GNU time, Debian package `time`). */
export const canMeasureChildRss = (): boolean => existsSync(GNU_TIME);

export async function runTimed(what: string, command: string, args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<TimedChild> {
  const rssFile = path.join(os.tmpdir(), `ferry-bench-rss-${process.pid}-${randomBytes(4).toString('hex')}`);
  const measured = canMeasureChildRss();
  const [cmd, argv] = measured ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, [...args]];
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      if (out.length < 1_000_000) out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-100_000);
    });
    child.once('error', reject);
    child.once('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallMs = performance.now() - t0;
  let peakRss = 0;
  if (measured) {
    // GNU time writes "Command exited with non-zero status N" before %M on failure
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    await rm(rssFile, { force: true });
    const kb = Number(text.trim().split('\n').pop());
    if (Number.isFinite(kb)) peakRss = kb * 1024;
  }
  if (code !== 0) throw new ChildFailed(what, code, stderr);
  return { wallMs, peakRss, stdout, stderr };
}
