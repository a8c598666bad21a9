import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A pause for long loops over a batch: every `every` calls it lets the event
 * loop run, so the activity's heartbeats go out (a heartbeat timeout of a few
 * seconds must not kill a busy but living worker) and a cancellation arrives.
 */
export function yieldEvery(every = 2_000): () => Promise<void> | undefined {
  let n = 0;
  return () => (++n % every === 0 ? nextTurn() : undefined);
}
