import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from '../../src/connectors/target.js';
import { forwardTarget } from './forward.js';

/**
 * A target that can be caught in the middle of a batch, for crash tests: while
 * the file `<dir>/<name>.armed` exists, an upsert writes the first half of its
 * rows through the real target, creates `<dir>/<name>.paused`, and waits
 * until the file is gone (the test SIGKILLs the worker meanwhile) before
 * writing the rest. Half the batch is then in B, its bindings and checkpoint
 * are not.
 */
export function pausingTarget(inner: Target, dir: string, name: string): Target {
  const armed = path.join(dir, `${name}.armed`);
  const paused = path.join(dir, `${name}.paused`);
  return {
    ...forwardTarget(inner),
    async upsert(rows, context) {
      if (!existsSync(armed) || rows.length < 2) return inner.upsert(rows, context);
      const half = Math.floor(rows.length / 2);
      const first = await inner.upsert(rows.slice(0, half), context);
      writeFileSync(paused, `${rows.length} rows, ${half} written\n`);
      while (existsSync(armed)) await sleep(50);
      const rest = await inner.upsert(rows.slice(half), context);
      return { ids: [...first.ids, ...rest.ids], rejected: [...first.rejected, ...rest.rejected.map((r) => ({ ...r, index: r.index + half }))] };
    },
  };
}
