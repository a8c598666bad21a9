import type { Projection, StagedRecord } from '../core/types.js';

/** What each activity stages for the next one (in ferry_staging, by batch id). */

export type RawStage = StagedRecord[];

/** Indexes into the raw stage of the records that passed the schema. */
export interface ValidStage {
  passed: number[];
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
  /** serialized keys of records that went to the dead-letter table before the target */
  failedKeys: string[];
}
