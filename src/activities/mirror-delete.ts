import { parseKey } from '../core/key.js';
import { countBindings, deleteBindings, pageUnseen } from '../state/bindings.js';
import { findStage, putStage } from '../state/staging.js';
import type { MirrorDeleteInput, MirrorDeleteOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import { deleteRows } from './target-writes.js';

const DELETE_PAGE = 5_000;

interface DeleteTally {
  deleted: number;
}

/**
 * After a complete pass: deletes from the target what the pass did not see.
 * In mirror mode a share above the guard deletes nothing and warns — an API
 * that suddenly returns an empty list must not empty the target.
 *
 * Each page's bindings go together with a running tally of the run's deletes,
 * so an attempt retried after a crash resumes the count instead of restarting it.
 */
export function mirrorDelete({ db, streams }: ActivityDeps) {
  return (input: MirrorDeleteInput): Promise<MirrorDeleteOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const scope = { stream: stream.name, system: stream.source.system };
      const tallyRef = { runId: input.runId, stream: stream.name, batchId: `${input.runId}:mirror-delete` };
      const tally = async (d: typeof db) => (await findStage<DeleteTally>(d, tallyRef.batchId, 'committed'))?.deleted ?? 0;
      let deleted = await tally(db);
      const { total, unseen } = await countBindings(db, scope, input.runId);
      if (unseen === 0) return { deleted };
      const share = unseen / total;
      if (input.mode === 'mirror' && !input.approved && share > input.maxDeleteFraction) {
        const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
        return {
          deleted: 0,
          warning:
            `mirror-delete skipped: ${unseen} of ${total} known records (${pct(share)}) were not in the source this run, ` +
            `more than the guard allows (${pct(input.maxDeleteFraction)}); check the source, then raise deletes.maxDeleteFraction or run again`,
        };
      }
      for (;;) {
        const page = await pageUnseen(db, scope, input.runId, DELETE_PAGE);
        if (page.length === 0) break;
        // Target first (idempotent), then bindings and tally: a crash in between only repeats the target delete.
        const rows = page.map((b) => ({ key: parseKey(b.key), internalId: b.internalId, version: b.version }));
        await callConnector(() => deleteRows(stream.target, rows, { stream: stream.name, runId: input.runId }));
        deleted = await db.transaction().execute(async (trx) => {
          await deleteBindings(trx, scope, page.map((b) => b.key));
          const next = (await tally(trx)) + page.length;
          await putStage<DeleteTally>(trx, tallyRef, 'committed', { deleted: next });
          return next;
        });
      }
      return { deleted };
    });
}
