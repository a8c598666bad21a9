/** Words from ARCHITECTURE.md, as types. Everything here is plain JSON. */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** A row as a source yields it: field name -> value. */
export type RawRow = Record<string, unknown>;

/**
 * Where the next fetch starts. Opaque to the engine: each source defines its
 * own shape (a column value plus key tie-breaker, an API page token, ...).
 * It travels through Temporal history, so it must stay small and hold no
 * record data beyond the key.
 */
export type Cursor = JsonValue;

/** A record staged between activities: external key parts, version, raw data. */
export interface StagedRecord {
  /** key parts as text, in the stream's key order; null when a key field is missing */
  key: string[] | null;
  version: string;
  data: RawRow;
}

/** A record mapped into the target's terms. */
export interface Projection {
  kind: string;
  fields: Record<string, unknown>;
}

export interface RunCounts {
  created: number;
  updated: number;
  skipped: number;
  deleted: number;
  failed: number;
}

export const zeroCounts = (): RunCounts => ({ created: 0, updated: 0, skipped: 0, deleted: 0, failed: 0 });

export function addCounts(a: RunCounts, b: Partial<RunCounts>): RunCounts {
  return {
    created: a.created + (b.created ?? 0),
    updated: a.updated + (b.updated ?? 0),
    skipped: a.skipped + (b.skipped ?? 0),
    deleted: a.deleted + (b.deleted ?? 0),
    failed: a.failed + (b.failed ?? 0),
  };
}

/** incremental: from the checkpoint; full: a complete pass from the start. */
export type RunMode = 'incremental' | 'full';

/** What a run row records: how a sync run read its source, or 'replay' (dead letters replayed, the source not read). */
export type RunRowMode = RunMode | 'replay';

export type RunStatus = 'running' | 'succeeded' | 'warning' | 'failed' | 'cancelled';

export function formatCounts(c: RunCounts): string {
  return `created ${c.created}, updated ${c.updated}, skipped ${c.skipped}, deleted ${c.deleted}, failed ${c.failed}`;
}
