import { Context } from '@temporalio/activity';
import { applyWriteBack } from '../links/upsert-linked-batch.js';
import { findStage } from '../state/staging.js';
import type { AlreadyCommitted, PrepareBatchInput, PreparedBatch, UpsertBatchOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { fetchPage } from './fetch-batch.js';
import { heartbeating } from './heartbeat.js';
import { mapRecords } from './map-batch.js';

/**
 * Fetch, validate and map of one batch in one activity, on the shared task
 * queue: the worker that runs it keeps the batch in its memory (HeldBatches)
 * and returns only a reference, the task queue that reaches it, the next
 * cursor and counts. Nothing is written anywhere, so the next batch can be
 * prepared while one is written, on any worker.
 *
 * For a batch lost with its worker, first checks whether that batch committed
 * before the worker died: then its recorded result is returned and nothing is
 * fetched, so the batch is counted once (and a linked export's pending
 * write-back is applied).
 */
export function prepareBatch({ db, streams, held }: ActivityDeps) {
  return (input: PrepareBatchInput): Promise<PreparedBatch | AlreadyCommitted> =>
    heartbeating(async () => {
      if (input.lost) {
        const committed = await findStage<UpsertBatchOutput>(db, input.lost.batchId, 'committed');
        if (committed) {
          // a linked export that died between its commit and its write-back: the write-back is done here
          await applyWriteBack(db, streams.get(input.stream), input.lost.batchId);
          return { committed };
        }
      }
      const stream = streams.get(input.stream);
      const page = await fetchPage(stream, input);
      // One id per fetch: a retried or repeated fetch may read a changed source, and
      // everything downstream must derive from exactly one read.
      const batchId = `${input.runId}:${input.batchNo}.${Context.current().info.attempt}${input.lost ? `r${input.lost.refetch}` : ''}`;
      const mapped = await mapRecords(stream, batchId, page.records);
      held.hold(batchId, { raw: page.records, mapped });
      return {
        batchId,
        holder: held.queue,
        count: page.count,
        superseded: page.count - page.records.length,
        failed: mapped.letters.length,
        next: page.next,
        done: page.done,
      };
    });
}
