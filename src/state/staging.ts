import { decodeRecords, encodeRecords } from './codec.js';
import type { StateDb } from './db.js';

/** A claim check: where a staged batch stage lives. Only this travels through Temporal. */
export interface BatchRef {
  runId: string;
  stream: string;
  batchId: string;
}

/** 'write-back': a linked export's write-back rows, saved with the commit and applied after it (links/upsert-linked-batch.ts). */
export type StageName = 'raw' | 'valid' | 'mapped' | 'committed' | 'write-back';

/**
 * ferry_staging keeps what must survive a worker: the 'committed' marker of a
 * batch (its recorded result, written in the batch's commit transaction) and
 * mirror-delete's tally. Record data is not staged here: prepared batches are
 * held by the worker that fetched them (activities/held-batches.ts). Rows of
 * the stages 'raw', 'valid' and 'mapped' are left only by runs of earlier
 * versions; they are dropped with their batch or run.
 */
export async function putStage<T>(db: StateDb, ref: BatchRef, stage: StageName, value: T): Promise<void> {
  const payload = Buffer.from(encodeRecords(value));
  await db
    .insertInto('ferry_staging')
    .values({ batch_id: ref.batchId, stage, run_id: ref.runId, stream: ref.stream, payload })
    .onConflict((oc) => oc.columns(['batch_id', 'stage']).doUpdateSet({ payload }))
    .execute();
}

/**
 * Writes a stage only if the batch has none of that name yet; says whether it
 * did. Under concurrency the second writer waits for the first's transaction
 * and then finds the row: what makes a batch's commit happen once.
 */
export async function putStageOnce<T>(db: StateDb, ref: BatchRef, stage: StageName, value: T): Promise<boolean> {
  const payload = Buffer.from(encodeRecords(value));
  const inserted = await db
    .insertInto('ferry_staging')
    .values({ batch_id: ref.batchId, stage, run_id: ref.runId, stream: ref.stream, payload })
    .onConflict((oc) => oc.columns(['batch_id', 'stage']).doNothing())
    .returning('batch_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findStage<T>(db: StateDb, batchId: string, stage: StageName): Promise<T | undefined> {
  const row = await db
    .selectFrom('ferry_staging')
    .select('payload')
    .where('batch_id', '=', batchId)
    .where('stage', '=', stage)
    .executeTakeFirst();
  if (!row) return undefined;
  return decodeRecords<T>(row.payload.toString('utf8'));
}

/** Drops the record payloads of a committed batch (its 'committed' marker stays until the run ends). */
export async function dropBatchPayloads(db: StateDb, batchId: string): Promise<void> {
  await db.deleteFrom('ferry_staging').where('batch_id', '=', batchId).where('stage', '!=', 'committed').execute();
}

export async function dropRunStaging(db: StateDb, runId: string): Promise<number> {
  const result = await db.deleteFrom('ferry_staging').where('run_id', '=', runId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Drops one stage of a batch. */
export async function dropStage(db: StateDb, batchId: string, stage: StageName): Promise<void> {
  await db.deleteFrom('ferry_staging').where('batch_id', '=', batchId).where('stage', '=', stage).execute();
}
