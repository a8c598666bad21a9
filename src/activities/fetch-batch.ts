import { Context } from '@temporalio/activity';
import { keyOf, serializeKey } from '../core/key.js';
import type { StagedRecord } from '../core/types.js';
import { versionOf } from '../core/version.js';
import { putStage } from '../state/staging.js';
import type { FetchBatchInput, FetchBatchOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import type { RawStage } from './stages.js';

/**
 * Duplicate keys in one page (a change log yields a row per change): the last
 * row of a key supersedes the earlier ones. Deduplicating before validation
 * means a newest change that fails is dead-lettered instead of being
 * overwritten by an older, valid one.
 */
function lastPerKey(records: StagedRecord[]): StagedRecord[] {
  const last = new Map<string, number>();
  records.forEach((r, i) => r.key && last.set(serializeKey(r.key), i));
  return records.filter((r, i) => !r.key || last.get(serializeKey(r.key)) === i);
}

/** Reads one page after the cursor and stages it; returns only a reference, the next cursor and a count. */
export function fetchBatch({ db, streams }: ActivityDeps) {
  return (input: FetchBatchInput): Promise<FetchBatchOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const page = await callConnector(() =>
        stream.source.fetch({ shape: stream.shape, after: input.cursor, limit: input.limit, mode: input.mode, rewind: input.rewind }),
      );
      const records: RawStage = lastPerKey(
        page.rows.map((row) => ({
          key: keyOf(row, stream.shape.key),
          version: versionOf(row, stream.version),
          data: row,
        })),
      );
      // One id per fetch attempt: a retried fetch may read a changed source, and
      // everything downstream must derive from exactly one read.
      const batchId = `${input.runId}:${input.batchNo}.${Context.current().info.attempt}`;
      await putStage(db, { runId: input.runId, stream: stream.name, batchId }, 'raw', records);
      return { batchId, count: page.rows.length, superseded: page.rows.length - records.length, next: page.next, done: page.done };
    });
}
