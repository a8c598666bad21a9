import { clearAwaitingApproval, putAwaitingApproval } from '../state/delete-approvals.js';
import { countBindings, pageUnseen } from '../state/bindings.js';
import type { DeleteGuardInput, DeleteGuardOutput, MarkAwaitingApprovalInput } from '../workflows/delete-approval-contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

/**
 * The mirror-delete guard as a step of its own (reads only): how many known
 * records a complete pass did not see, whether that share is above the guard,
 * and a few of their keys — what a person is shown before approving.
 */
export function checkDeleteGuard({ db, streams }: ActivityDeps) {
  return (input: DeleteGuardInput): Promise<DeleteGuardOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const scope = { stream: stream.name, system: stream.source.system };
      const { total, unseen } = await countBindings(db, scope, input.runId);
      const share = total === 0 ? 0 : unseen / total;
      const sample = unseen === 0 ? [] : (await pageUnseen(db, scope, input.runId, input.sampleSize)).map((b) => b.key);
      return { total, unseen, share, trips: share > input.maxDeleteFraction, sample };
    });
}

/** Records (or clears) that a run waits for approval, for `ferry status` and /metrics. */
export function markAwaitingApproval({ db }: ActivityDeps) {
  return async (input: MarkAwaitingApprovalInput): Promise<void> => {
    if (input.pending) await putAwaitingApproval(db, input.pending);
    else await clearAwaitingApproval(db, input.runId);
  };
}
