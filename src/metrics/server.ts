import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '../core/errors.js';

/** Where an HTTP metrics endpoint listens. Port 0 lets the system pick a free port (tests). */
export interface MetricsListen {
  port: number;
  /** default 127.0.0.1 */
  host?: string;
}

export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics (an unspecified host is shown as 127.0.0.1) */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format); everything else is 404. */
export async function startMetricsServer(source: MetricsSource, listen: MetricsListen): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(path === '/metrics' ? 'use GET\n' : 'ferry worker: metrics are at /metrics\n');
      return;
    }
    source.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': source.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigurationError(`metrics port ${listen.port} on ${host} is taken (another worker on this machine?)`, 'set FERRY_METRICS_PORT to a free port, or off')
          : err,
      ),
    );
    server.listen({ port: listen.port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // a scraper's keep-alive connection would hold close() open
        server.closeAllConnections();
      }),
  };
}
