// The embedded PostgreSQL's own thread (started by embedded-postgres.ts):
// PGlite, served on a free loopback port by pglite-socket.
import { parentPort, workerData } from 'node:worker_threads';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ExchangeAtATimePGlite } from './exchange-at-a-time.js';

export interface ThreadInput {
  /** PGlite's data folder; undefined: in memory */
  dataDir: string | undefined;
}

/** From the thread: listening (host:port), then stopped once asked to stop. */
export type ThreadMessage = { listening: string } | { stopped: true };

const parent = parentPort;
if (!parent) throw new Error('embedded-postgres-thread.ts runs as a worker thread: use startEmbeddedPostgres()');
const { dataDir } = workerData as ThreadInput;

const db = new ExchangeAtATimePGlite(dataDir);
await db.waitReady;
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
