import { customerStream } from './customers.js';

export const scaleOutStreamName = (prefix: string, i: number) => `${prefix}.s${i}`;
export const scaleOutTables = (i: number) => ({ source: `src_customers_s${i}`, target: `dst_customers_s${i}` });

/** `count` customer streams over their own tables; a dead worker's activity is noticed within the 3 s heartbeat timeout. */
export function scaleOutStreams(prefix: string, url: string, count: number, batchSize: number) {
  return Array.from({ length: count }, (_, i) =>
    customerStream(scaleOutStreamName(prefix, i), url, scaleOutTables(i), {
      batchSize,
      timeouts: { activity: '2m', heartbeat: '3s' },
      retry: { maximumAttempts: 10, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
    }),
  );
}
