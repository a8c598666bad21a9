import type { Cursor, RawRow, RunMode } from '../core/types.js';
import type { WriteBackSpec } from '../links/options.js';

/**
 * What a source can do, declared by the source and checked by `defineStream`
 * (as kysely's dialect adapters declare theirs).
 */
export interface SourceCapabilities {
  /**
   * Reads only what changed after a checkpoint: a cursor column, an
   * `updated_since` parameter, a change feed. A stream over an incremental
   * source stores a checkpoint and starts each run from it; otherwise every
   * run is a complete pass.
   */
  incremental: boolean;
  /** Can read everything from the start (`ferry run --full`, and the pass mirror/replace deletes need). */
  snapshot: boolean;
  /** Applies a look-back window on `rewind` (re-reads late-committed changes); false: `rewind` is ignored. */
  lookBack: boolean;
  /**
   * Records per batch for a stream that does not say (its `batchSize`); unset: 500. A database
   * reads thousands of rows a query cheaply (DATABASE_BATCH_SIZE); an HTTP API is asked for one
   * batch a page and may not serve more than a few hundred.
   */
  batchSize?: number;
}

/**
 * The batch size of a database source. A batch costs a few round trips to Temporal (50–90 ms
 * here) whatever its size, so small batches cap the rate: a Postgres load with one partition ran
 * at 5,200 rows/s with 500-row batches; on a 200,000-row table at 18,000 with 2,000 and 38,000
 * with 5,000, the worker's peak RSS staying under 300 MB (283 MiB). Larger batches gain less
 * and hold more.
 */
export const DATABASE_BATCH_SIZE = 5_000;

/** What a source is told of the stream that reads it. */
export interface SourceShape {
  stream: string;
  /** the external key: field paths into the record (`id`, `customer.id`) */
  key: readonly string[];
}

export interface FetchRequest {
  shape: SourceShape;
  /** the checkpoint (or the `next` of the previous page) to continue after; null: from the very start */
  after: Cursor | null;
  limit: number;
  mode: RunMode;
  /** first page of an incremental run: apply the source's look-back window to `after` */
  rewind: boolean;
  /**
   * Read only this key range, one of those `partition` returned, paged by key
   * (`after` is then a position inside the range, never a checkpoint).
   */
  range?: Cursor;
}

/** A first load split into key ranges that can be read at once, independently (Source.partition). */
export interface PartitionPlan {
  /** the ranges, the source's own JSON: disjoint, and together every record (FetchRequest.range) */
  ranges: Cursor[];
  /**
   * Where incremental runs continue once every range is loaded: the source's
   * position as of the split (read before any range), null for a source
   * without a cursor. Records changed during the load come after it.
   */
  checkpoint: Cursor | null;
}

export interface SourcePage {
  rows: RawRow[];
  /** cursor after the last row of this page; the checkpoint once the page is committed */
  next: Cursor | null;
  /** true when nothing is left after this page */
  done: boolean;
}

/**
 * Reads records from system A, page by page, after a cursor it owns.
 *
 * Contract:
 * - Pages are disjoint and ordered, so fetching with `after = page.next` never
 *   skips a record committed before the page was read; a page with
 *   `done: false` may be short or empty.
 * - The cursor is the source's own JSON (a column value and key, a page
 *   token, an `updated_since` time): the engine stores it as the checkpoint
 *   and hands it back, never looks inside. It travels through Temporal history:
 *   keep it small, and keep record data other than keys out of it.
 * - The cursor strategy, look-back window and checkpoint shape are source
 *   options, not stream fields; a new source is one folder, no engine change.
 * - Errors: throw the classes of `./errors.ts` (transient, transient with a
 *   delay, configuration); anything else is retried as transient.
 */
export interface Source {
  /** the system the records come from, in external keys and dead letters: 'crm', '1c' (not the product) */
  readonly system: string;
  readonly capabilities: SourceCapabilities;
  /**
   * The record field holding its version when the stream names none (e.g. a
   * timestamp or version cursor column); undefined: the version is a hash of
   * the record's significant fields.
   */
  readonly versionField?: string | undefined;
  /** Checks the shape against the real system (tables, columns); throws ConfigurationError. */
  check(shape: SourceShape): Promise<void>;
  fetch(request: FetchRequest): Promise<SourcePage>;
  /**
   * How far a checkpoint this source wrote is behind `now`, in seconds (never
   * negative), when the checkpoint tells a time (a timestamp cursor, an
   * `updated_since`); null when it does not (a sequence, a page token): then
   * `ferry status` and the metrics count from when the checkpoint was written.
   * Pure and quick: it runs at every metrics scrape.
   */
  lag(checkpoint: Cursor, now: Date): number | null;
  /**
   * Optional: the current records of these keys (key parts as text, in the
   * shape's key order), in any order; missing keys are left out. A linked
   * pair reads the side it is about to write with its other stream's source,
   * to see whether that side changed too (a conflict).
   */
  read?(shape: SourceShape, keys: readonly (readonly string[])[]): Promise<RawRow[]>;
  /**
   * Optional: splits a complete pass into at most `count` key ranges of about
   * equal size (fewer for a small table: none smaller than `minRowsEach`, the
   * batch size); null when this source or stream
   * cannot be split (then the load runs as one).
   */
  partition?(shape: SourceShape, count: number, minRowsEach: number): Promise<PartitionPlan | null>;
  /** Optional: sets columns of source rows after they were exported (a stream's `writeBack`), one statement per call. */
  writeBack?(shape: SourceShape, spec: WriteBackSpec, rows: readonly WriteBackRow[]): Promise<void>;
  close(): Promise<void>;
}

/** One exported record's outcome, for the write-back into its source row. */
export interface WriteBackRow {
  key: readonly string[];
  ok: boolean;
  /** the target's id of the record (success) */
  targetId: string | null;
  /** why it failed (failure) */
  error: string | null;
  /** false: the record was already in sync; its row is written only when a value differs (no needless row change) */
  written: boolean;
}
