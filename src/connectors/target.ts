import type { FieldIssue } from '../core/errors.js';
import type { Projection } from '../core/types.js';

export interface TargetRow {
  /** external key parts, for error messages */
  key: readonly string[];
  projection: Projection;
}

export interface TargetRejection {
  /** index into the rows passed to upsert */
  index: number;
  message: string;
  /** the fields B named as at fault, when it does */
  issues?: readonly FieldIssue[];
}

export interface UpsertResult {
  /** internal id in B for each row (same order as the input); null where rejected */
  ids: (string | null)[];
  /** rows B refused for their own content (constraint, bad value): dead letters */
  rejected: TargetRejection[];
}

/**
 * Writes projections into system B.
 *
 * Contract: `upsert` is idempotent by key (it may run again after a crash),
 * writes the batch in as few statements as it can, and returns B's internal
 * ids; a row B refuses for its content is reported in `rejected`, never
 * thrown. Anything thrown is treated as transient (retried) unless it is a
 * ConfigurationError. Keys are unique within one call.
 *
 * A write to B is not a checkpoint: the engine moves the checkpoint only
 * after `upsert` returns, in the state store, together with the bindings.
 */
export interface Target {
  readonly system: string;
  /** Checks the table/endpoint exists and accepts the fields; throws ConfigurationError. */
  check(): Promise<void>;
  upsert(rows: readonly TargetRow[]): Promise<UpsertResult>;
  /** Deletes (hard or soft) the rows with these internal ids; missing ids are not an error. */
  delete(internalIds: readonly string[]): Promise<number>;
  close(): Promise<void>;
}
