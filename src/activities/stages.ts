import type { Projection, StagedRecord } from '../core/types.js';
import type { NewDeadLetter } from '../state/dead-letters.js';

/** What each activity stages for the next one (in ferry_staging, by batch id). */

export type RawStage = StagedRecord[];

/**
 * Indexes into the raw stage of the records that passed the schema, and the
 * dead letters of those that did not. Dead letters are staged, not written:
 * upsertBatch commits them with the batch, so a batch's dead letters and
 * resolutions land in one transaction, in batch order.
 */
export interface ValidStage {
  passed: number[];
  letters: NewDeadLetter[];
}

export interface MappedRow {
  /** index into the raw stage */
  index: number;
  key: string[];
  version: string;
  projection: Projection;
}

export interface MappedStage {
  rows: MappedRow[];
  /** serialized keys of records that failed before the target */
  failedKeys: string[];
  /** their dead letters (schema and mapping failures), committed by upsertBatch */
  letters: NewDeadLetter[];
}
