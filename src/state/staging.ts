import { ConfigurationError } from '../core/errors.js';
import { decodeRecords, encodeRecords } from './codec.js';
import type { StateDb } from './db.js';

/** A claim check: where a staged batch stage lives. Only this travels through Temporal. */
export interface BatchRef {
  runId: string;
  stream: string;
  batchId: string;
}

export type StageName = 'raw' | 'valid' | 'mapped' | 'committed';

/**
 * Batches written by one activity are usually read by the next one on the same
 * worker, so the last few are kept parsed in memory. A batch id names one fetch
 * attempt and every later stage is derived from it, so a cached copy is never
 * stale. The 'committed' marker is written inside a transaction that may roll
 * back, so it is never cached.
 */
const CACHE_LIMIT = 8;
const cache = new Map<string, unknown>();

function remember(id: string, value: unknown): void {
  cache.delete(id);
  cache.set(id, value);
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
}

const cacheId = (batchId: string, stage: StageName) => `${batchId}/${stage}`;
const cacheable = (stage: StageName) => stage !== 'committed';

export async function putStage<T>(db: StateDb, ref: BatchRef, stage: StageName, value: T): Promise<void> {
  const payload = Buffer.from(encodeRecords(value));
  await db
    .insertInto('ferry_staging')
    .values({ batch_id: ref.batchId, stage, run_id: ref.runId, stream: ref.stream, payload })
    .onConflict((oc) => oc.columns(['batch_id', 'stage']).doUpdateSet({ payload }))
    .execute();
  if (cacheable(stage)) remember(cacheId(ref.batchId, stage), value);
}

export async function findStage<T>(db: StateDb, batchId: string, stage: StageName): Promise<T | undefined> {
  const id = cacheId(batchId, stage);
  if (cacheable(stage) && cache.has(id)) return cache.get(id) as T;
  const row = await db
    .selectFrom('ferry_staging')
    .select('payload')
    .where('batch_id', '=', batchId)
    .where('stage', '=', stage)
    .executeTakeFirst();
  if (!row) return undefined;
  const value = decodeRecords<T>(row.payload.toString('utf8'));
  if (cacheable(stage)) remember(id, value);
  return value;
}

export async function getStage<T>(db: StateDb, batchId: string, stage: StageName): Promise<T> {
  const value = await findStage<T>(db, batchId, stage);
  if (value === undefined) {
    throw new ConfigurationError(
      `staged batch ${batchId} has no "${stage}" stage`,
      'its staging rows were removed while the run was in flight; start the run again',
    );
  }
  return value;
}

/** Drops the record payloads of a committed batch (its 'committed' marker stays until the run ends). */
export async function dropBatchPayloads(db: StateDb, batchId: string): Promise<void> {
  await db.deleteFrom('ferry_staging').where('batch_id', '=', batchId).where('stage', '!=', 'committed').execute();
  for (const stage of ['raw', 'valid', 'mapped'] as const) cache.delete(cacheId(batchId, stage));
}

export async function dropRunStaging(db: StateDb, runId: string): Promise<number> {
  const result = await db.deleteFrom('ferry_staging').where('run_id', '=', runId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
