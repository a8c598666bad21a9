import { keyOf, serializeKey } from '../core/key.js';
import { versionOf } from '../core/version.js';
import { failAgain, pageReplay, replayExtent, replayLeft } from '../state/dead-letter-queue.js';
import { closeAbandonedRuns, insertRun } from '../state/runs.js';
import { findStage } from '../state/staging.js';
import type { AlreadyCommitted, UpsertBatchOutput } from '../workflows/contracts.js';
import type {
  BeginReplayInput,
  BeginReplayOutput,
  CountReplayLeftInput,
  CountReplayLeftOutput,
  PrepareReplayBatchInput,
  PreparedReplayBatch,
} from '../workflows/replay-contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import { mapRecords } from './map-batch.js';
import type { RawStage } from './stages.js';

/**
 * Opens the replay's run row (mode 'replay'), checks the target, and fixes the
 * extent of the replay. The row comes first, so a replay of a stream this
 * worker does not know still leaves one (the workflow closes it with the error).
 * The source is not read: a replay works from the raw records kept in the dead letters.
 */
export function beginReplay({ db, streams, searchAttributes }: ActivityDeps) {
  return (input: BeginReplayInput): Promise<BeginReplayOutput> =>
    heartbeating(async () => {
      await closeAbandonedRuns(db, input.stream, input.runId);
      await insertRun(db, { id: input.runId, stream: input.stream, workflowId: input.workflowId, workflowRunId: input.workflowRunId, mode: 'replay', startedAt: new Date(input.startedAt) });
      const stream = streams.get(input.stream);
      await callConnector(() => stream.target.check());
      const { maxId, count } = await replayExtent(db, { stream: stream.name, ids: input.ids });
      return { plan: stream.plan, maxId, selected: count, searchAttributes: searchAttributes ?? false };
    });
}

/**
 * Reads one page of the selected dead letters and prepares their raw records
 * as a batch, keyed and versioned by the stream's current definition, then
 * validated and mapped like a fetched batch and held in this worker's memory
 * for upsertBatch (prepareBatch's claim check). The batch id is derived from
 * the run and the page number only, so a retried or repeated attempt prepares
 * the same batch again instead of a second one.
 *
 * A dead letter whose raw record no longer yields its key under the stream's
 * definition (no key value, a changed key, another source system) could not be
 * resolved by key once written: it is not prepared but failed again here, with
 * a message saying so.
 */
export function prepareReplayBatch({ db, streams, held }: ActivityDeps) {
  return (input: PrepareReplayBatchInput): Promise<PreparedReplayBatch | AlreadyCommitted> =>
    heartbeating(async () => {
      const batchId = `${input.runId}:replay.${input.batchNo}`;
      if (input.lost) {
        const committed = await findStage<UpsertBatchOutput>(db, batchId, 'committed');
        if (committed) return { committed };
      }
      const stream = streams.get(input.stream);
      const page = await pageReplay(db, { stream: stream.name, ids: input.ids }, { afterId: input.afterId, maxId: input.maxId, limit: input.limit + 1 });
      const done = page.length <= input.limit;
      const read = page.slice(0, input.limit);

      const records: RawStage = [];
      const unreplayable: { id: string; error: string }[] = [];
      for (const letter of read) {
        const key = keyOf(letter.raw, stream.shape.key);
        const reason =
          letter.system !== stream.source.system
            ? `it was read from system "${letter.system}", and the stream's source is now "${stream.source.system}"`
            : key === null
              ? `its record has no value for key field ${stream.shape.key.join(', ')}`
              : serializeKey(key) !== letter.recordKey
                ? `under the stream's key (${stream.shape.key.join(', ')}) the record's key is now ${serializeKey(key)}`
                : undefined;
        if (reason === undefined && key !== null) {
          records.push({ key, version: versionOf(letter.raw, stream.version), data: letter.raw });
        } else {
          unreplayable.push({
            id: letter.id,
            error: `stream "${stream.name}", record ${letter.recordKey}: cannot be replayed: ${reason ?? 'no key'} (discard it: ferry dlq discard ${letter.id})`,
          });
        }
      }

      // idempotent by batch id: a repeated attempt counts no attempt twice
      await failAgain(db, { runId: input.runId, batchId }, unreplayable);
      const mapped = await mapRecords(stream, batchId, records);
      // a page of unreplayable dead letters only has nothing to write (the workflow skips upsertBatch)
      if (records.length > 0) held.hold(batchId, { raw: records, mapped });
      return {
        batchId,
        holder: held.queue,
        count: read.length,
        staged: records.length,
        unreplayable: unreplayable.length,
        failed: mapped.letters.length + unreplayable.length,
        lastId: read.at(-1)?.id ?? input.afterId,
        done,
      };
    });
}

/**
 * Counts, once a replay has read its last page, the selected dead letters
 * still in the queue: the replay reports them and ends with status warning,
 * rather than trusting that its pages reached every one.
 */
export function countReplayLeft({ db }: ActivityDeps) {
  return (input: CountReplayLeftInput): Promise<CountReplayLeftOutput> =>
    heartbeating(() => replayLeft(db, { stream: input.stream, ids: input.ids }, { maxId: input.maxId, runId: input.runId }));
}
