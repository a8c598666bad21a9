// An embedded PostgreSQL for the demo on a machine that has none: PGlite
// (PostgreSQL compiled to WebAssembly) served over the PostgreSQL wire
// protocol on a loopback port by pglite-socket. ferry's state store (kysely)
// and its pg connectors then talk to it exactly as they talk to a real server:
// no second code path to keep correct.
//
// It runs in a thread of the demo's process (embedded-postgres-thread.ts):
// PGlite executes each statement synchronously, so on the main thread every
// statement would stall the Temporal worker's activities, and their JSON,
// validation and mapping work would stall the database. In its own thread the
// two run side by side, as they do with a PostgreSQL server in its own process.
//
// PGlite is ONE session that every connection shares: exchange-at-a-time.ts
// keeps each connection's exchanges and transactions whole.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadInput, ThreadMessage } from './embedded-postgres-thread.js';

export interface EmbeddedPostgres {
  /** connection string for pg / kysely */
  url: string;
  /** where the data lives: a folder, or 'memory' */
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts PGlite in a thread and serves it on 127.0.0.1 at a free port. `dataDir` undefined: in memory. */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  const thread = startThread({ dataDir, imageFile: freshClusterImage() });
  const address = await nextMessage(thread, 'starting');
  if (!('listening' in address)) throw new Error('the embedded PostgreSQL answered out of turn');
  return {
    url: `postgres://postgres@${address.listening}/postgres`,
    dataDir: dataDir ?? 'memory',
    async stop() {
      const stopped = nextMessage(thread, 'stopping');
      thread.postMessage('stop');
      await stopped.finally(() => thread.terminate());
    },
  };
}

/** .ferry/pglite-<version>-initdb.tar in the repository: an image is only good for the PGlite that made it. */
function freshClusterImage(): string {
  const pglite = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
  const { version } = JSON.parse(readFileSync(pglite, 'utf8')) as { version: string };
  return fileURLToPath(new URL(`../.ferry/pglite-${version}-initdb.tar`, import.meta.url));
}

function startThread(input: ThreadInput): Worker {
  // The demo runs under tsx, whose loader does not reach worker threads (Node 20):
  // the thread loads tsx's API and imports its TypeScript entry through it.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./embedded-postgres-thread.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(code, { eval: true, workerData: input });
}

/** The thread's next message; rejects when the thread fails or ends first. */
function nextMessage(thread: Worker, doing: string): Promise<ThreadMessage> {
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      outcome();
    };
    const onMessage = (message: ThreadMessage) => settle(() => resolve(message));
    const onError = (err: Error) =>
      settle(() => reject(new Error(`the embedded PostgreSQL failed while ${doing}: ${err.message}`, { cause: err })));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`the embedded PostgreSQL's thread ended (exit code ${code}) while ${doing}`)));
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
  });
}
