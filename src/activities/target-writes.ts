import { ConfigurationError, RecordRejectedError } from '../connectors/errors.js';
import type { DeleteRow, Target, TargetRejection, TargetRow, UpsertResult, WriteContext } from '../connectors/target.js';
import { callConnector, toTemporalFailure } from './connector-call.js';
import { writeProgress } from './write-progress.js';

/** Most of a target's response body kept in a dead letter. */
const BODY_LIMIT = 4_000;

/** A rejection's text for the dead letter: the system's message, status and (cut) response body. */
export function rejectionText(rejection: TargetRejection): string {
  const status = rejection.status !== undefined ? ` (status ${rejection.status})` : '';
  const body = rejection.body ? `; response: ${rejection.body.length > BODY_LIMIT ? `${rejection.body.slice(0, BODY_LIMIT)}…` : rejection.body}` : '';
  return `${rejection.message}${status}${body}`;
}

/**
 * Writes rows to a target in calls of at most its `batchLimit`. A
 * RecordRejectedError thrown by a call becomes that row's rejection: a
 * one-row call is the row; a call of several is written again in halves
 * (idempotent by key) until the rejected row is alone. Rows an earlier
 * attempt of the activity wrote (writeProgress) are not sent again. Returns
 * one result for all rows, indexes into `rows`.
 */
export async function upsertRows(target: Target, rows: readonly TargetRow[], context: WriteContext): Promise<UpsertResult> {
  const progress = writeProgress(rows);
  const ids = rows.map((_, i) => progress.written.get(i) ?? null);
  const rejected: TargetRejection[] = [];
  const todo = rows.map((_, i) => i).filter((i) => !progress.written.has(i));
  /** writes todo[at .. at + count) */
  const write = async (at: number, count: number): Promise<void> => {
    const indexes = todo.slice(at, at + count);
    const slice = indexes.map((i) => rows[i] as TargetRow);
    const wrote = (i: number, id: string | null) => progress.wrote([[indexes[i] as number, id]]);
    let result: UpsertResult;
    try {
      result = await target.upsert(slice, { ...context, wrote, ...(progress.signal ? { signal: progress.signal } : {}) });
    } catch (err) {
      if (!(err instanceof RecordRejectedError)) throw toTemporalFailure(err);
      if (count === 1) {
        rejected.push({ index: indexes[0] as number, message: err.message, issues: err.issues, ...(err.status !== undefined ? { status: err.status } : {}), ...(err.body !== undefined ? { body: err.body } : {}) });
        return;
      }
      const half = Math.ceil(count / 2);
      await write(at, half);
      await write(at + half, count - half);
      return;
    }
    if (!Array.isArray(result?.ids) || result.ids.length !== count || !Array.isArray(result.rejected)) {
      throw new ConfigurationError(
        `target system "${target.system}" broke the connector contract: upsert of ${count} rows returned ${Array.isArray(result?.ids) ? result.ids.length : 'no'} ids`,
        'a target returns one id (or null) per row, and its rejected rows',
      );
    }
    const refused = new Set(result.rejected.map((r) => r.index));
    const done: [number, string | null][] = [];
    result.ids.forEach((id, i) => {
      const index = indexes[i] as number;
      ids[index] = id ?? null;
      if (!refused.has(i) && !progress.written.has(index)) done.push([index, id ?? null]);
    });
    // A call that wrote every remaining row ends the writes: nothing is left for a retry to skip.
    if (count < todo.length) progress.wrote(done);
    for (const r of result.rejected) rejected.push({ ...r, index: indexes[r.index] as number });
  };
  const limit = target.capabilities.batchLimit ?? Math.max(1, todo.length);
  for (let at = 0; at < todo.length; at += limit) await write(at, Math.min(limit, todo.length - at));
  rejected.sort((a, b) => a.index - b.index);
  return { ids, rejected };
}

/** Deletes rows from a target in calls of at most its `batchLimit`; the number it removed. */
export async function deleteRows(target: Target, rows: readonly DeleteRow[], context: WriteContext): Promise<number> {
  const remove = target.delete?.bind(target);
  if (!remove || target.capabilities.delete === false) {
    throw new ConfigurationError(`target system "${target.system}" cannot delete`, "set the stream's deletes to 'none'");
  }
  const limit = target.capabilities.batchLimit ?? Math.max(1, rows.length);
  let removed = 0;
  for (let offset = 0; offset < rows.length; offset += limit) {
    const slice = rows.slice(offset, offset + limit);
    removed += await callConnector(() => remove(slice, context));
  }
  return removed;
}
