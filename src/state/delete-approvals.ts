import type { PendingDeleteApproval } from '../workflows/delete-approval-contracts.js';
import type { StateDb } from './db.js';

/**
 * Runs waiting for a person to approve a mirror-delete, kept in the state
 * store so every worker's /metrics and `ferry status` see them without asking
 * Temporal. A row of ferry_staging under the run (stage 'awaiting-approval'):
 * finishRun's dropRunStaging clears it whatever way the run ends.
 */
const STAGE = 'awaiting-approval';
const batchIdOf = (runId: string) => `${runId}:delete-approval`;

export async function putAwaitingApproval(db: StateDb, pending: PendingDeleteApproval): Promise<void> {
  const payload = Buffer.from(JSON.stringify(pending));
  await db
    .insertInto('ferry_staging')
    .values({ batch_id: batchIdOf(pending.runId), stage: STAGE, run_id: pending.runId, stream: pending.stream, payload })
    .onConflict((oc) => oc.columns(['batch_id', 'stage']).doUpdateSet({ payload }))
    .execute();
}

export async function clearAwaitingApproval(db: StateDb, runId: string): Promise<void> {
  await db.deleteFrom('ferry_staging').where('batch_id', '=', batchIdOf(runId)).where('stage', '=', STAGE).execute();
}

/** The runs waiting now, of the given streams (all when omitted). */
export async function readAwaitingApprovals(db: StateDb, streams?: readonly string[]): Promise<PendingDeleteApproval[]> {
  if (streams && streams.length === 0) return [];
  let q = db.selectFrom('ferry_staging').select('payload').where('stage', '=', STAGE);
  if (streams) q = q.where('stream', 'in', streams);
  const rows = await q.execute();
  return rows.map((r) => JSON.parse(r.payload.toString('utf8')) as PendingDeleteApproval);
}
