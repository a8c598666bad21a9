import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ConfigurationError, FerryError, errorMessage } from './core/errors.js';
import { TASK_QUEUE_DEFAULT } from './workflows/definitions.js';

/**
 * Where Temporal is and how to reach it, the Temporal way: the standard
 * `TEMPORAL_*` environment variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*) over the Temporal
 * CLI's config profiles (TEMPORAL_CONFIG_FILE, default
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE picks one), read by
 * `@temporalio/envconfig`. The worker, the CLI and the schedules all connect
 * through this one place.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS, API key and gRPC metadata: secrets, never logged (see describeSettings) */
  connection?: Pick<NativeConnectionOptions, 'tls' | 'apiKey' | 'metadata'>;
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const profile = env.TEMPORAL_PROFILE;
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ ...(profile ? { profile } : {}), overrideEnvVars: definedOnly(env) });
  } catch (err) {
    throw new ConfigurationError(
      `cannot read the Temporal connection settings${profile ? ` (profile "${profile}")` : ''}: ${errorMessage(err)}`,
      'check TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE and the TEMPORAL_* variables',
    );
  }
  const { address, tls, apiKey, metadata } = loaded.connectionOptions;
  return {
    address: address ?? DEFAULT_ADDRESS,
    namespace: loaded.namespace ?? 'default',
    taskQueue: env.FERRY_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
    connection: {
      ...(tls !== undefined ? { tls } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    },
  };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** For logs and messages: where, never the secrets. */
export function describeSettings(settings: TemporalSettings): { address: string; namespace: string; taskQueue: string; tls: boolean; apiKey: boolean } {
  const tls = settings.connection?.tls;
  return {
    address: settings.address,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    tls: tls !== undefined && tls !== false && tls !== null,
    apiKey: settings.connection?.apiKey !== undefined,
  };
}

/** Temporal did not answer, or refused the connection (TLS, certificate, API key). */
export class TemporalUnreachableError extends FerryError {
  constructor(settings: TemporalSettings, cause: unknown) {
    const { tls, apiKey } = describeSettings(settings);
    super(
      `cannot connect to Temporal at ${settings.address} (namespace "${settings.namespace}", TLS ${tls ? 'on' : 'off'}${apiKey ? ', API key' : ''}): ${firstLine(cause)}`,
      "check TEMPORAL_ADDRESS or the profile's address, and for TLS the TEMPORAL_TLS_* settings",
    );
  }
}

function firstLine(err: unknown): string {
  return (errorMessage(err).split('\n')[0] ?? '').trim();
}

/** The options both connection kinds (client and worker) take. */
export function connectionOptions(settings: TemporalSettings): NativeConnectionOptions {
  return { address: settings.address, ...settings.connection };
}

export async function connectClient(settings = temporalSettings()): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: '5s' }).catch((err: unknown) => {
    throw new TemporalUnreachableError(settings, err);
  });
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, close: () => connection.close() };
}
