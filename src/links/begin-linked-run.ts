import type { ResolvedStream } from '../config/define-stream.js';
import type { StateDb } from '../state/db.js';
import { adoptBindings } from '../state/links.js';
import { linkedPairOf } from './pair-links.js';

/**
 * At the start of a run of a linked pair's stream: the per-stream bindings
 * both streams of the pair kept before the pair was linked become links
 * (state/links.ts adoptBindings; nothing is lost, a no-op once done).
 */
export async function beginLinkedRun(db: StateDb, registry: { all(): ResolvedStream[] }, stream: ResolvedStream): Promise<void> {
  const linked = linkedPairOf(registry, stream);
  if (!linked) return;
  await db.transaction().execute(async (trx) => {
    for (const s of [linked.self, linked.other]) {
      if (!s?.pair) continue;
      await adoptBindings(trx, linked.name, { name: s.name, system: s.source.system, sourceSide: s.pair.direction === 'export' ? 'local' : 'remote' });
    }
  });
}
