import { setTimeout as sleep } from 'node:timers/promises';
import type { FetchRequest, Source, SourcePage } from '../../src/connectors/source.js';
import { forwardSource } from './forward.js';
import { createGates } from './gates.js';

/**
 * A real source whose fetches the test can slow down or hold: the worker runs
 * in the test's process, so the test decides when a given fetch may go on.
 * Holding a fetch pins a run at a known batch without touching what is under test.
 */
export interface GatedSource extends Source {
  /** fetches started so far */
  readonly fetches: number;
  /** makes fetch number `n` (0-based, counted from now on too) wait until the returned release() */
  hold(n: number): { reached: Promise<void>; release: () => void };
  /** every fetch waits this long first */
  delayMs: number;
}

export function gatedSource(inner: Source, delayMs = 0): GatedSource {
  const gates = createGates();
  let fetches = 0;
  const source: GatedSource = {
    ...forwardSource(inner),
    delayMs,
    get fetches() {
      return fetches;
    },
    hold: (n) => gates.hold(n),
    async fetch(request: FetchRequest): Promise<SourcePage> {
      await gates.pass(fetches++);
      if (source.delayMs > 0) await sleep(source.delayMs);
      return inner.fetch(request);
    },
  };
  return source;
}
