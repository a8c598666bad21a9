import type { GuardTripPolicy } from '../../src/config/define-stream.js';
import { customerStream } from './customers.js';

/**
 * The streams of test/ops-decisions.test.ts, built the same way by the test's
 * worker and by the CLI processes it starts (test/fixtures/ops.config.ts):
 * one customer stream per case, each on its own tables (src_customers_<case>).
 */
export const OPS_CASES = {
  dry: 'skip',
  reset: 'skip',
  approve: { await: '5m' },
  reject: { await: '5m' },
  timeout: { await: '2s' },
} as const satisfies Record<string, GuardTripPolicy>;

export type OpsCase = keyof typeof OPS_CASES;

export const opsStreamName = (prefix: string, c: OpsCase) => `${prefix}.${c}`;
export const opsTables = (c: OpsCase) => ({ source: `src_customers_${c}`, target: `dst_customers_${c}` });

export function opsStreams(prefix: string, url: string) {
  return (Object.keys(OPS_CASES) as OpsCase[]).map((c) =>
    customerStream(opsStreamName(prefix, c), url, opsTables(c), {
      batchSize: 7,
      deletes: { mode: 'mirror', maxDeleteFraction: 0.5, onGuardTrip: OPS_CASES[c] },
    }),
  );
}
