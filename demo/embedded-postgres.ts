// An embedded PostgreSQL for the demo on a machine that has none: PGlite
// (PostgreSQL compiled to WebAssembly, in this process) served over the
// PostgreSQL wire protocol on a loopback port by pglite-socket. ferry's state
// store (kysely) and its pg connectors then talk to it exactly as they talk to
// a real server: no second code path to keep correct.
//
// PGlite is one session; the socket server multiplexes connections onto it
// statement by statement, and while one connection is inside a transaction it
// runs only that connection's statements, so transactions stay isolated (by
// running one at a time).
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** connection string for pg / kysely */
  url: string;
  /** where the data lives: a folder, or 'memory' */
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts PGlite and serves it on 127.0.0.1 at a free port. `dataDir` undefined: in memory. */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  const db = await PGlite.create(dataDir);
  // The worker's pools (state store 10, connectors 8) and the demo's own: room for all.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    dataDir: dataDir ?? 'memory',
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
