// The embedded PostgreSQL's own thread (started by embedded-postgres.ts):
// PGlite, served on a free loopback port by pglite-socket.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ExchangeAtATimePGlite } from './exchange-at-a-time.js';

export interface ThreadInput {
  /** PGlite's data folder; undefined: in memory */
  dataDir: string | undefined;
  /** where the image of a fresh in-memory cluster is kept between starts */
  imageFile: string;
}

/** From the thread: listening (host:port), then stopped once asked to stop. */
export type ThreadMessage = { listening: string } | { stopped: true };

const parent = parentPort;
if (!parent) throw new Error('embedded-postgres-thread.ts runs as a worker thread: use startEmbeddedPostgres()');
const { dataDir, imageFile } = workerData as ThreadInput;

/**
 * A fresh in-memory cluster. initdb (PostgreSQL's cluster set-up) is most of
 * PGlite's start: seconds, half a minute on a busy machine. So a start keeps
 * an image of its cluster taken right after initdb, and later starts load it.
 */
async function freshInMemory(): Promise<ExchangeAtATimePGlite> {
  const image = await readFile(imageFile).catch(() => undefined);
  if (image) {
    const loaded = new ExchangeAtATimePGlite({ loadDataDir: new Blob([image]) });
    try {
      await loaded.waitReady;
      return loaded;
    } catch {
      // a damaged image: set up afresh and replace it
    }
  }
  const db = new ExchangeAtATimePGlite();
  await db.waitReady;
  const dump = await db.dumpDataDir('none');
  await mkdir(path.dirname(imageFile), { recursive: true });
  const part = `${imageFile}.${process.pid}-${threadId}.part`;
  await writeFile(part, Buffer.from(await dump.arrayBuffer()));
  await rename(part, imageFile); // whole or not at all, for a start beside this one
  return db;
}

let db: ExchangeAtATimePGlite;
if (dataDir) {
  db = new ExchangeAtATimePGlite(dataDir);
  await db.waitReady;
} else {
  db = await freshInMemory();
}
// The worker's pools (state store 10, connectors 8) and the demo's own: room for all.
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
await server.start();
const send = (message: ThreadMessage) => parent.postMessage(message);
send({ listening: server.getServerConn() });

parent.once('message', async () => {
  await server.stop();
  await db.close();
  send({ stopped: true });
  parent.close();
});
