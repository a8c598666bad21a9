import type { Projection, StagedRecord } from '../core/types.js';
import type { NewDeadLetter } from '../state/dead-letters.js';

/**
 * What prepareBatch hands upsertBatch, held in the memory of the worker that
 * prepared it (held-batches.ts), by batch id.
 */

export type RawStage = StagedRecord[];

export interface MappedRow {
  /** index into the raw stage */
  index: number;
  key: string[];
  /** the key as serializeKey writes it (bindings, dead letters), made once per record */
  keyText: string;
  version: string;
  projection: Projection;
}

/**
 * Dead letters are held with the batch, not written: upsertBatch commits them
 * with the batch, so a batch's dead letters and resolutions land in one
 * transaction, in batch order.
 */
export interface MappedStage {
  rows: MappedRow[];
  /** serialized keys of records that failed before the target */
  failedKeys: string[];
  /** their dead letters (schema and mapping failures), committed by upsertBatch */
  letters: NewDeadLetter[];
}
