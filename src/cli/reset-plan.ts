import type { ResolvedStream } from '../config/define-stream.js';
import { isKeysetCursor, parsePgTimestamp } from '../connectors/keyset-cursor.js';
import { ConfigurationError } from '../core/errors.js';
import type { Cursor } from '../core/types.js';
import type { Checkpoint } from '../state/checkpoints.js';

/** How far the plan counts source rows after a point: beyond this it says "at least". */
export const COUNT_CAP = 100_000;
const COUNT_PAGE = 5_000;

export interface ResetPlan {
  stream: string;
  current: { cursor: Cursor; writtenAt: string; runId: string } | null;
  next: Cursor;
  /** how `--to` was read */
  basis: 'time' | 'cursor';
  /** source rows after the new point, and after the current checkpoint (capped at COUNT_CAP) */
  rowsAfterNext: RowCount;
  rowsAfterCurrent: RowCount | null;
}

export interface RowCount {
  rows: number;
  /** the count stopped at COUNT_CAP */
  atLeast: boolean;
}

/**
 * `--to` as a cursor: JSON is the source's own cursor, used as given; anything
 * else must be a time, which needs a checkpoint of a SQL source with a
 * timestamp cursor column. The new checkpoint then sits 1 µs before that time
 * (keyset: every row at or after it is read again; a few at exactly that
 * microsecond before it too, which the version check skips), keeping the
 * current checkpoint's key (only its shape matters) and its way of printing
 * the time (with or without a zone).
 */
export function cursorFor(stream: ResolvedStream, to: string, current: Checkpoint | undefined): { cursor: Cursor; basis: 'time' | 'cursor' } {
  const trimmed = to.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { cursor: JSON.parse(trimmed) as Cursor, basis: 'cursor' };
    } catch (err) {
      throw new ConfigurationError(`--to ${JSON.stringify(to)}: not valid JSON (${(err as Error).message})`, 'give a time (2026-01-31T10:00:00Z) or the cursor as JSON, as ferry status prints it');
    }
  }
  const at = parsePgTimestamp(trimmed);
  if (!at) throw new ConfigurationError(`--to ${JSON.stringify(to)}: neither a time (2026-01-31T10:00:00Z, '2026-01-31 10:00:00+00') nor a JSON cursor`);
  if (!current) {
    throw new ConfigurationError(`stream "${stream.name}" has no checkpoint: its next run reads from the start anyway`, 'to start later than the start, give the cursor as JSON');
  }
  const value = isKeysetCursor(current.cursor) ? current.cursor.value : null;
  if (!isKeysetCursor(current.cursor) || typeof value !== 'string' || !parsePgTimestamp(value)) {
    throw new ConfigurationError(
      `stream "${stream.name}": its checkpoint ${JSON.stringify(current.cursor)} holds no time, so --to cannot be a time`,
      'give the cursor as JSON (the shape ferry status shows)',
    );
  }
  const withZone = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value.trim());
  // ISO of (t − 1 ms) ends in .mmmZ; appending 999 µs makes it t − 1 µs.
  const iso = new Date(at.getTime() - 1).toISOString().replace('T', ' ').replace('Z', '');
  return { cursor: { value: `${iso}999${withZone ? '+00' : ''}`, key: current.cursor.key }, basis: 'time' };
}

/** Source rows after a cursor, read page by page as an incremental run would, up to COUNT_CAP. */
export async function countRowsAfter(stream: ResolvedStream, after: Cursor): Promise<RowCount> {
  let rows = 0;
  let cursor: Cursor | null = after;
  for (;;) {
    const page = await stream.source.fetch({ shape: stream.shape, after: cursor, limit: COUNT_PAGE, mode: 'incremental', rewind: false });
    rows += page.rows.length;
    if (page.done) return { rows, atLeast: false };
    if (rows >= COUNT_CAP) return { rows, atLeast: true };
    cursor = page.next;
  }
}

export async function planReset(stream: ResolvedStream, to: string, current: Checkpoint | undefined): Promise<ResetPlan> {
  if (!stream.plan.incremental) {
    throw new ConfigurationError(`stream "${stream.name}": every run is a complete pass (no checkpoint), so there is no point to go back to`, `just run it: ferry run ${stream.name}`);
  }
  const { cursor, basis } = cursorFor(stream, to, current);
  const [rowsAfterNext, rowsAfterCurrent] = await Promise.all([countRowsAfter(stream, cursor), current ? countRowsAfter(stream, current.cursor) : Promise.resolve(null)]);
  return {
    stream: stream.name,
    current: current ? { cursor: current.cursor, writtenAt: current.updatedAt.toISOString(), runId: current.runId } : null,
    next: cursor,
    basis,
    rowsAfterNext,
    rowsAfterCurrent,
  };
}

const countText = (c: RowCount) => `${c.atLeast ? 'at least ' : ''}${c.rows.toLocaleString('en-US')}`;

export function formatResetPlan(p: ResetPlan): string {
  return [
    `${p.stream}: reset plan`,
    `  checkpoint now:   ${p.current ? `${JSON.stringify(p.current.cursor)} (written ${p.current.writtenAt} by run ${p.current.runId})` : 'none'}`,
    `  checkpoint after: ${JSON.stringify(p.next)}${p.basis === 'time' ? ' (1 µs before the time given)' : ''}`,
    `  source rows after it: ${countText(p.rowsAfterNext)}${p.rowsAfterCurrent ? ` (after the current checkpoint: ${countText(p.rowsAfterCurrent)})` : ''}`,
    `  the next run reads from there; records whose version the target already has are skipped`,
  ].join('\n') + '\n';
}
