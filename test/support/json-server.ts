// json-server (npm, typicode) as an independent HTTP peer: spawned from
// node_modules/.bin with a temporary db.json on a free 127.0.0.1 port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './harness.js';

export interface JsonServer {
  url: string;
  /** GET a collection, as json-server holds it now */
  all(collection: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startJsonServer(db: Record<string, unknown[]>): Promise<JsonServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-json-server-'));
  const file = path.join(dir, 'db.json');
  await writeFile(file, JSON.stringify(db));
  const port = await freePort();
  const child: ChildProcess = spawn(path.join(repoRoot, 'node_modules/.bin/json-server'), ['--host', '127.0.0.1', '--port', String(port), '--quiet', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/db`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`json-server did not start on ${url}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    all: async (collection) => (await (await fetch(`${url}/${collection}`)).json()) as Record<string, unknown>[],
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
