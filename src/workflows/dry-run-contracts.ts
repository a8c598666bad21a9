/**
 * `ferry run <stream> --dry-run`: what crosses history — names, counts and a
 * few sample keys, never record data. Types only.
 */
import type { Cursor, RunCounts, RunMode } from '../core/types.js';

export interface DryRunInput {
  stream: string;
  /** a complete pass from the start (what `ferry run --full` would do) */
  full?: boolean;
  batchSize?: number;
  /** keys shown per outcome; default 5 */
  sampleSize?: number;
}

export type DryRunOutcome = keyof RunCounts;

export interface DryRunOutput {
  stream: string;
  mode: RunMode;
  /** the checkpoint the pass started after (incremental), or null */
  from: Cursor | null;
  records: number;
  batches: number;
  /** what a run would do now; target rejections cannot be foreseen and are not counted */
  counts: RunCounts;
  /** the first few keys of each outcome, serialized as in the bindings */
  samples: Record<DryRunOutcome, string[]>;
  /** a complete pass of a stream that deletes: what the mirror-delete step would find */
  deletes: null | {
    mode: 'mirror' | 'replace';
    /** bindings before the pass */
    known: number;
    /** bindings the pass did not see */
    unseen: number;
    share: number;
    /** mirror: the share is above the guard, so the run would skip (or await approval) instead of deleting */
    guardTrips: boolean;
    awaitsApproval: boolean;
  };
}
