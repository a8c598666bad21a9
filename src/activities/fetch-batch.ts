import type { ResolvedStream } from '../config/define-stream.js';
import { keyOf, serializeKey } from '../core/key.js';
import type { Cursor, RunMode, StagedRecord } from '../core/types.js';
import { versionOf } from '../core/version.js';
import { callConnector } from './connector-call.js';
import type { RawStage } from './stages.js';

/**
 * Duplicate keys in one page (a change log yields a row per change): the last
 * row of a key supersedes the earlier ones. Deduplicating before validation
 * means a newest change that fails is dead-lettered instead of being
 * overwritten by an older, valid one.
 */
function lastPerKey(records: StagedRecord[]): StagedRecord[] {
  const texts = records.map((r) => (r.key ? serializeKey(r.key) : null));
  const last = new Map<string, number>();
  let keyed = 0;
  texts.forEach((text, i) => {
    if (text === null) return;
    last.set(text, i);
    keyed += 1;
  });
  if (last.size === keyed) return records; // no key repeats
  return records.filter((_, i) => {
    const text = texts[i] ?? null;
    return text === null || last.get(text) === i;
  });
}

export interface FetchedPage {
  records: RawStage;
  /** rows read */
  count: number;
  next: Cursor | null;
  done: boolean;
}

/** Reads one page after the cursor (the first step of prepareBatch), keyed and versioned, the last row of a key kept. */
export async function fetchPage(
  stream: ResolvedStream,
  input: { cursor: Cursor | null; limit: number; mode: RunMode; rewind: boolean; range?: Cursor | undefined },
): Promise<FetchedPage> {
  const { range } = input;
  const page = await callConnector(() =>
    stream.source.fetch({ shape: stream.shape, after: input.cursor, limit: input.limit, mode: input.mode, rewind: input.rewind, ...(range !== undefined ? { range } : {}) }),
  );
  const records = lastPerKey(
    page.rows.map((row) => ({
      key: keyOf(row, stream.shape.key),
      version: versionOf(row, stream.version),
      data: row,
    })),
  );
  return { records, count: page.rows.length, next: page.next, done: page.done };
}
