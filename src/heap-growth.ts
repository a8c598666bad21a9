import v8 from 'node:v8';
import { ConfigurationError } from './core/errors.js';

/**
 * How far V8 lets the heap grow past what is live before it collects it
 * (FERRY_HEAP_GROWTH_PERCENT, default 30: the limit is 1.3 × live). By
 * default V8 grows it up to about 4× for throughput: a worker holding two
 * 10,000-row batches (about 20 MB live) reached 300 MB of heap before a full
 * collection, and its RSS followed. 0 keeps V8's own heuristic. Set once, at
 * start-up, before the heap grows (a flag V8 reads at every collection).
 */
export function boundHeapGrowth(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FERRY_HEAP_GROWTH_PERCENT;
  const percent = raw === undefined || raw === '' ? 30 : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 400) {
    throw new ConfigurationError(`FERRY_HEAP_GROWTH_PERCENT must be a whole number from 0 to 400 (got "${raw}")`, '0 keeps V8\'s default; 30 (the default) trades a little CPU for a worker RSS bounded by the batches it holds');
  }
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
