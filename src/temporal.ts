import { Connection, Client } from '@temporalio/client';
import { TASK_QUEUE_DEFAULT } from './workflows/definitions.js';

/** Where Temporal is, from the environment (the same names the compose stack sets). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function temporalSettings(): TemporalSettings {
  return {
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.FERRY_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
  };
}

export async function connectClient(settings = temporalSettings()): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, close: () => connection.close() };
}
