import { countBindings, deleteBindings, pageUnseen } from '../state/bindings.js';
import type { MirrorDeleteInput, MirrorDeleteOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

const DELETE_PAGE = 5_000;

/**
 * After a complete pass: deletes from the target what the pass did not see.
 * In mirror mode a share above the guard deletes nothing and warns — an API
 * that suddenly returns an empty list must not empty the target.
 */
export function mirrorDelete({ db, streams }: ActivityDeps) {
  return (input: MirrorDeleteInput): Promise<MirrorDeleteOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const scope = { stream: stream.name, system: stream.source.system };
      const { total, unseen } = await countBindings(db, scope, input.runId);
      if (unseen === 0) return { deleted: 0 };
      const share = unseen / total;
      if (input.mode === 'mirror' && share > input.maxDeleteFraction) {
        const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
        return {
          deleted: 0,
          warning:
            `mirror-delete skipped: ${unseen} of ${total} known records (${pct(share)}) were not in the source this run, ` +
            `more than the guard allows (${pct(input.maxDeleteFraction)}); check the source, then raise deletes.maxDeleteFraction or run again`,
        };
      }
      let deleted = 0;
      for (;;) {
        const page = await pageUnseen(db, scope, input.runId, DELETE_PAGE);
        if (page.length === 0) break;
        await stream.target.delete(page.flatMap((b) => (b.internalId === null ? [] : [b.internalId])));
        await deleteBindings(db, scope, page.map((b) => b.key));
        deleted += page.length;
      }
      return { deleted };
    });
}
