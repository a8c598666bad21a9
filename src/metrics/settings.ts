import { Runtime } from '@temporalio/worker';
import { FerrySdkLogger } from '../sdk-logger.js';
import type { Logger } from 'pino';
import { ConfigurationError } from '../core/errors.js';
import type { MetricsListen } from './server.js';

export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_SDK_METRICS_PORT = 9465;
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** The worker process's metrics endpoints, from the environment; false: disabled. */
export interface MetricsSettings {
  /** ferry's own metrics (FERRY_METRICS_PORT, default 9464) */
  ferry: MetricsListen | false;
  /** the Temporal SDK's worker metrics (FERRY_SDK_METRICS_PORT, default 9465) */
  sdk: MetricsListen | false;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number | false {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === '0' || raw === 'off' || raw === 'false' || raw === 'no') return false;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new ConfigurationError(`${name} must be a port number (1-65535), or 0/off to disable; got "${env[name]}"`);
  }
  return n;
}

/**
 * FERRY_METRICS_PORT, FERRY_SDK_METRICS_PORT (0 or off disables either), FERRY_METRICS_HOST
 * (default 127.0.0.1: the metrics are not exposed beyond this machine unless asked, e.g.
 * FERRY_METRICS_HOST=0.0.0.0 in a container that Prometheus scrapes).
 */
export function metricsSettings(env: NodeJS.ProcessEnv = process.env): MetricsSettings {
  const host = env.FERRY_METRICS_HOST?.trim() || DEFAULT_METRICS_HOST;
  const ferry = port(env, 'FERRY_METRICS_PORT', DEFAULT_METRICS_PORT);
  const sdk = port(env, 'FERRY_SDK_METRICS_PORT', DEFAULT_SDK_METRICS_PORT);
  if (ferry !== false && ferry === sdk) throw new ConfigurationError(`FERRY_METRICS_PORT and FERRY_SDK_METRICS_PORT are both ${ferry}: give them different ports`);
  return { ferry: ferry === false ? false : { port: ferry, host }, sdk: sdk === false ? false : { port: sdk, host } };
}

/**
 * Makes the Temporal SDK serve its own worker metrics (task slots, poll and
 * schedule-to-start latencies, activity failures...) in Prometheus format at
 * http://host:port/metrics. Must run before any Temporal connection or worker
 * is created in this process: the runtime is a process-wide singleton.
 * Returns the URL to scrape (an unspecified host shown as 127.0.0.1).
 */
export function installSdkMetrics(listen: MetricsListen): string {
  const host = listen.host ?? DEFAULT_METRICS_HOST;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  Runtime.install({ logger: new FerrySdkLogger(), telemetryOptions: { metrics: { prometheus: { bindAddress: `${bracketed}:${listen.port}` } } } });
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : bracketed;
  return `http://${shown}:${listen.port}/metrics`;
}

/**
 * installSdkMetrics for the worker process: logs where the metrics are, or,
 * when the port is taken (another worker on this machine), warns and goes on
 * without them rather than not syncing at all.
 */
export function serveSdkMetrics(listen: MetricsListen, logger: Logger): void {
  try {
    const url = installSdkMetrics(listen);
    logger.info({ url }, `Temporal SDK metrics at ${url}`);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    logger.warn(`Temporal SDK metrics not served on port ${listen.port}: ${reason} (set FERRY_SDK_METRICS_PORT to a free port, or off)`);
  }
}
