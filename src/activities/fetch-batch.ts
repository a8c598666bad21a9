import { Context } from '@temporalio/activity';
import { keyOf } from '../core/key.js';
import { versionOf } from '../core/version.js';
import { putStage } from '../state/staging.js';
import type { FetchBatchInput, FetchBatchOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';
import type { RawStage } from './stages.js';

/** Reads one page after the cursor and stages it; returns only a reference, the next cursor and a count. */
export function fetchBatch({ db, streams }: ActivityDeps) {
  return (input: FetchBatchInput): Promise<FetchBatchOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const page = await stream.source.fetch({
        shape: stream.shape,
        after: input.cursor,
        limit: input.limit,
        mode: input.mode,
        rewind: input.rewind,
      });
      const records: RawStage = page.rows.map((row) => ({
        key: keyOf(row, stream.shape.key),
        version: versionOf(row, stream.version),
        data: row,
      }));
      // One id per fetch attempt: a retried fetch may read a changed source, and
      // everything downstream must derive from exactly one read.
      const batchId = `${input.runId}:${input.batchNo}.${Context.current().info.attempt}`;
      await putStage(db, { runId: input.runId, stream: stream.name, batchId }, 'raw', records);
      return { batchId, count: records.length, next: page.next, done: page.done };
    });
}
