import type { FieldIssue } from '../core/errors.js';
import type { Projection } from '../core/types.js';

/**
 * What a target can do, declared by the target and checked by `defineStream`.
 */
export interface TargetCapabilities {
  /**
   * How the target removes a record: 'hard' (gone), 'soft' (marked deleted),
   * 'events' (publishes a delete event, e.g. to a broker), or false: it cannot,
   * and a stream with `deletes: 'mirror' | 'replace'` is refused at config time.
   */
  delete: 'hard' | 'soft' | 'events' | false;
  /** `upsert` returns B's internal ids, kept in the bindings and handed back in `TargetRow.internalId`. */
  returnsIds: boolean;
  /**
   * Writing the same rows again leaves B as one write does (upsert by key, an
   * idempotency key). Activities are at-least-once: the engine refuses a
   * target that is not.
   */
  idempotent: boolean;
  /** Most rows per `upsert`/`delete` call; the engine splits larger batches. undefined: no limit. 1: a one-record API. */
  batchLimit?: number | undefined;
}

export interface TargetRow {
  /** external key parts, for error messages (and for targets addressed by the source key) */
  key: readonly string[];
  /** B's id from the binding when this record was written before (a REST target's `PUT /customers/{id}`); null: new to B, or no ids */
  internalId: string | null;
  /** 'create': no binding yet (new to B); 'update': written before (a broker target's `ferry.<stream>.<op>`) */
  op: 'create' | 'update';
  /** the record's version (a broker's message id, an API's idempotency key: stream + key + version) */
  version: string;
  projection: Projection;
}

/** A record to delete: its external key, B's id when the target returned one, the version last written. */
export interface DeleteRow {
  key: readonly string[];
  internalId: string | null;
  version: string | null;
}

/** Which stream and run a write belongs to (for subjects, idempotency keys, messages); never record data. */
export interface WriteContext {
  stream: string;
  runId: string;
  /**
   * For a target that writes row by row: report each row (index into this
   * call's rows, and B's id or null) as soon as B holds it. The engine keeps
   * these (indexes and ids only) so a retried attempt does not send those rows
   * again. Absent outside an activity.
   */
  wrote?: (index: number, id: string | null) => void;
  /** aborted when the activity is cancelled or its attempt is gone: stop waiting and sending */
  signal?: AbortSignal;
}

export interface TargetRejection {
  /** index into the rows passed to upsert */
  index: number;
  message: string;
  /** the fields B named as at fault, when it does */
  issues?: readonly FieldIssue[];
  /** the system's status (an HTTP status, a SQLSTATE), kept in the dead letter */
  status?: string | number;
  /** the system's response body, kept in the dead letter (never logged) */
  body?: string;
}

export interface UpsertResult {
  /** internal id in B for each row (same order as the input); null where rejected or when the target returns no ids */
  ids: (string | null)[];
  /** rows B refused for their own content (constraint, bad value): dead letters */
  rejected: TargetRejection[];
}

/**
 * Writes projections into system B.
 *
 * Contract:
 * - `upsert` is idempotent by key (it may run again after a crash), writes
 *   the rows in as few calls to B as it can, and returns B's ids. Keys are
 *   unique within one call, and a call never holds more than `batchLimit` rows.
 * - A row B refuses for its content: a bulk target reports it in `rejected`;
 *   a one-record target (`batchLimit: 1`) may throw `RecordRejectedError`
 *   instead. Either way it becomes that record's dead letter and the run goes on.
 * - Other errors: throw the classes of `./errors.ts` (transient, transient
 *   with a delay, configuration); anything else is retried as transient.
 * - A write to B is not a checkpoint: the engine moves the checkpoint only
 *   after `upsert` returns, in the state store, together with the bindings.
 */
export interface Target {
  /** the system written to: 'app', '1c' (not the product) */
  readonly system: string;
  readonly capabilities: TargetCapabilities;
  /** Checks the table/endpoint exists and accepts the fields; throws ConfigurationError. */
  check(): Promise<void>;
  upsert(rows: readonly TargetRow[], context: WriteContext): Promise<UpsertResult>;
  /**
   * Deletes (or marks deleted, or publishes the deletion of) these records;
   * missing ones are not an error. Returns how many it removed. Required
   * unless `capabilities.delete` is false.
   */
  delete?(rows: readonly DeleteRow[], context: WriteContext): Promise<number>;
  close(): Promise<void>;
}
