import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { ExchangePlan } from './define-exchange.js';
import { describeNodeForToken, handleExchange, type ExchangeReply, type HandshakeOutcome } from './central.js';

/**
 * The central node's HTTP endpoint (node:http, no framework):
 *   POST /api/sync/exchange   a handshake (see central.ts)
 *   GET  /api/sync/node       the token's node id and the central node's id
 * Packets are bounded by the plan's packetSize; the body limit only guards
 * against garbage.
 */

export const EXCHANGE_PATH = '/api/sync/exchange';
export const NODE_PATH = '/api/sync/node';
const MAX_BODY_BYTES = 256 * 1024 * 1024;

export interface ExchangeServerOptions {
  pool: pg.Pool;
  plan: ExchangePlan;
  /** default 0: any free port */
  port?: number;
  host?: string;
  logger?: Logger;
  onHandled?: (outcome: HandshakeOutcome) => void;
}

export interface ExchangeServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: ExchangeReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json' });
  res.end(reply.body);
}

export async function startExchangeServer(options: ExchangeServerOptions): Promise<ExchangeServer> {
  const { pool, plan, logger } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    void (async () => {
      try {
        if (req.method === 'POST' && path === EXCHANGE_PATH) {
          const body = await readBody(req);
          if (body === undefined) return send(res, { status: 413, body: JSON.stringify({ error: { code: 'too_large', message: `packet larger than ${MAX_BODY_BYTES} bytes` } }) });
          const reply = await handleExchange(pool, plan, { authorization: req.headers.authorization, body }, (o) => {
            logger?.info({ node: o.node, packet: o.received, duplicate: o.duplicate, applied: o.applied, reply: o.replyPacketNo, replyEntities: o.replyEntities }, 'exchange handled');
            options.onHandled?.(o);
          });
          if (reply.status !== 200) logger?.warn({ status: reply.status, error: reply.body }, 'exchange refused');
          return send(res, reply);
        }
        if (req.method === 'GET' && path === NODE_PATH) return send(res, await describeNodeForToken(pool, plan, req.headers.authorization));
        send(res, { status: 404, body: JSON.stringify({ error: { code: 'not_found', message: `POST ${EXCHANGE_PATH} or GET ${NODE_PATH}` } }) });
      } catch (err) {
        // record data never reaches the log: only the error message
        logger?.error({ err: err instanceof Error ? err.message : String(err) }, 'exchange failed');
        send(res, { status: 503, body: JSON.stringify({ error: { code: 'unavailable', message: `the central node could not complete the exchange: ${err instanceof Error ? err.message : String(err)}; nothing was applied, retry` } }) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
