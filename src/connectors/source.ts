import type { Cursor, RawRow, RunMode } from '../core/types.js';

/** How the stream pages through its source: keyset on (column, key), or the key alone. */
export type CursorStrategy =
  | { strategy: 'timestamp'; column: string }
  | { strategy: 'sequence'; column: string }
  | { strategy: 'version'; column: string }
  | { strategy: 'none' };

/** What a source needs to know of the stream to read it. */
export interface SourceShape {
  stream: string;
  key: readonly string[];
  cursor: CursorStrategy;
  /**
   * Re-read this far behind the checkpoint at the start of an incremental run:
   * an interval such as '10 minutes' for timestamps, a number for sequences.
   */
  lookBack: string | number | undefined;
}

export interface FetchRequest {
  shape: SourceShape;
  /** null: from the very start */
  after: Cursor | null;
  limit: number;
  mode: RunMode;
  /** first page of an incremental run: apply the look-back window to `after` */
  rewind: boolean;
}

export interface SourcePage {
  rows: RawRow[];
  /** cursor after the last row of this page; the checkpoint once the page is committed */
  next: Cursor | null;
  /** true when nothing is left after this page */
  done: boolean;
}

/**
 * Reads records from system A, page by page, after a cursor.
 *
 * Contract: pages are disjoint and ordered, so fetching with `after =
 * page.next` never skips a row committed before the page was read; a page
 * with `done: false` may be short or empty.
 */
export interface Source {
  /** system name in external keys, e.g. 'crm' */
  readonly system: string;
  /** Checks the shape against the real system (tables, columns); throws ConfigurationError. */
  check(shape: SourceShape): Promise<void>;
  fetch(request: FetchRequest): Promise<SourcePage>;
  close(): Promise<void>;
}
