/**
 * The stream options a linked pair adds (declared with defineStream): the
 * pair's conflict policy and the write-back into the source after an export.
 */
import { z } from 'zod';
import type { ConflictPolicy } from './policies.js';

/**
 * A value written back into a source row: a literal (string, number,
 * boolean, null), or `{ from: … }`:
 * - `'targetId'`: the id the target returned for the record (e.g. 1C's id);
 *   on failure the column keeps its value
 * - `'error'`: the target's (or the schema's, the mapper's) error text; null on success
 * - `'now'`: the time of the write-back
 */
export type WriteBackValue = string | number | boolean | null | { from: 'targetId' | 'error' | 'now' };

/**
 * Columns of the source row set after each exported record, in one
 * statement per batch (source connectors that can: postgresSource). The
 * columns must not be among the stream's significant (version) fields: a
 * write-back is never a change to export.
 *
 * ```ts
 * writeBack: {
 *   onSuccess: { onec_id: { from: 'targetId' }, sync_status: 'synced', needs_1c_export: false,
 *                last_sync_at: { from: 'now' }, sync_error_message: null },
 *   onFailure: { sync_status: 'error', sync_error_message: { from: 'error' }, last_sync_at: { from: 'now' } },
 * }
 * ```
 */
export interface WriteBackSpec {
  /** after a record reached the target (or was found already in sync) */
  onSuccess?: Record<string, WriteBackValue>;
  /** after a record became a dead letter (rejected by the target, the schema or the mapper) */
  onFailure?: Record<string, WriteBackValue>;
}

const value = z.union([z.string(), z.number(), z.boolean(), z.null(), z.object({ from: z.enum(['targetId', 'error', 'now']) }).strict()]);
const columns = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain column name'), value);

export const writeBackSchema = z
  .object({ onSuccess: columns.optional(), onFailure: columns.optional() })
  .strict()
  .refine((w) => Object.keys(w.onSuccess ?? {}).length + Object.keys(w.onFailure ?? {}).length > 0, 'sets no column: give onSuccess and/or onFailure');

const sideWins = z.enum(['source-wins', 'target-wins']);
const lastWriterWins = z.object({ lastWriterWins: z.object({ source: z.string().min(1), target: z.string().min(1) }).strict() }).strict();
const resolver = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'must be a function' });

export const conflictPolicySchema = z.custom<ConflictPolicy>(
  (v) => {
    if (sideWins.safeParse(v).success || lastWriterWins.safeParse(v).success || typeof v === 'function') return true;
    if (typeof v !== 'object' || v === null || !('merge' in v)) return false;
    const fallback = (v as { merge: unknown }).merge;
    return Object.keys(v).length === 1 && (sideWins.safeParse(fallback).success || lastWriterWins.safeParse(fallback).success || resolver.safeParse(fallback).success);
  },
  { message: "must be 'source-wins', 'target-wins', { lastWriterWins: { source, target } }, { merge: <fallback policy> } or a function" },
);
