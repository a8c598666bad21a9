import { CancellationScope, condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { StreamPlan } from '../config/define-stream.js';
import type { MirrorDeleteOutput } from './contracts.js';
import {
  approveDeleteSignal,
  deleteApprovalQuery,
  percent,
  rejectDeleteSignal,
  type DeleteDecision,
  type PendingDeleteApproval,
} from './delete-approval-contracts.js';
import type { activitiesFor } from './run-activities.js';

/** How many keys a person is shown (in the query, `ferry status` and the Web UI). */
const SAMPLE_SIZE = 10;

type RunActivities = ReturnType<typeof activitiesFor>;
export type DeletePhase = 'deleting' | 'awaiting approval';

/**
 * The mirror-delete step of a run. Without `onGuardTrip: { await }` it is the
 * mirrorDelete activity as before (the guard trips: skip and warn). With it,
 * the guard is checked first; when it trips, the run waits for `ferry approve`
 * or `ferry reject` (signals naming this run) for the declared time, showing
 * what it would delete; approve deletes past the guard, reject or no answer
 * skips with a warning. A cancel while waiting cancels the run as anywhere else.
 */
export async function mirrorDeleteStep(acts: RunActivities, plan: StreamPlan, runId: string, setPhase: (phase: DeletePhase) => void): Promise<MirrorDeleteOutput> {
  const { mode, maxDeleteFraction, awaitApprovalMs } = plan.deletes;
  if (mode === 'none') return { deleted: 0 };
  setPhase('deleting');
  const base = { stream: plan.stream, runId, mode, maxDeleteFraction };
  if (mode !== 'mirror' || awaitApprovalMs === undefined) return acts.mirrorDelete(base);

  const guard = await acts.checkDeleteGuard({ stream: plan.stream, runId, maxDeleteFraction, sampleSize: SAMPLE_SIZE });
  if (!guard.trips) return acts.mirrorDelete(base);

  const now = new Date().getTime(); // the workflow task's time: deterministic
  const pending: PendingDeleteApproval = {
    runId,
    stream: plan.stream,
    unseen: guard.unseen,
    total: guard.total,
    share: guard.share,
    maxDeleteFraction,
    sample: guard.sample,
    since: new Date(now).toISOString(),
    until: new Date(now + awaitApprovalMs).toISOString(),
  };
  let decision: { approved: boolean; by?: string | undefined } | undefined;
  let waiting = true;
  const decide = (approved: boolean) => (d: DeleteDecision) => {
    // Only a decision for this run, while it waits: a stale or early signal changes nothing.
    if (waiting && decision === undefined && d.runId === runId) decision = { approved, by: d.by };
  };
  // The state store first: once the query answers, `ferry status` and /metrics say so too.
  // (A signal sent before its handler exists is buffered by Temporal and delivered at setHandler.)
  await acts.markAwaitingApproval({ stream: plan.stream, runId, pending });
  setHandler(approveDeleteSignal, decide(true));
  setHandler(rejectDeleteSignal, decide(false));
  setHandler(deleteApprovalQuery, () => (waiting ? pending : null));

  setPhase('awaiting approval');
  const what = `${guard.unseen} of ${guard.total} known records (${percent(guard.share)}) were not in the source this run, more than the guard allows (${percent(maxDeleteFraction)})`;
  setCurrentDetails(
    `**awaiting approval** — mirror-delete would delete ${what}.\n\n` +
      `Sample keys: ${guard.sample.join(', ')}\n\n` +
      `\`ferry approve ${plan.stream}\` or \`ferry reject ${plan.stream}\` before ${pending.until}; without an answer the delete is skipped.`,
  );
  try {
    await condition(() => decision !== undefined, awaitApprovalMs);
  } finally {
    waiting = false;
    await CancellationScope.nonCancellable(() => acts.markAwaitingApproval({ stream: plan.stream, runId, pending: null }));
  }

  const by = decision?.by ? ` by ${decision.by}` : '';
  if (decision?.approved) {
    setPhase('deleting');
    setCurrentDetails(`mirror-delete approved${by}: deleting ${guard.unseen} records`);
    const removed = await acts.mirrorDelete({ ...base, approved: true });
    return { deleted: removed.deleted, note: `mirror-delete above the guard approved${by}: ${removed.deleted} deleted (${what})` };
  }
  const why = decision ? `rejected${by}` : `not approved within ${Math.round(awaitApprovalMs / 1000)}s`;
  return { deleted: 0, warning: `mirror-delete skipped, ${why}: ${what}; nothing was deleted` };
}
