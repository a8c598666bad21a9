import type { TargetRow } from '../connectors/target.js';
import { loadBindings, markSeen, writeBindings, type BindingWrite, type KnownBinding } from '../state/bindings.js';
import { saveCheckpoint } from '../state/checkpoints.js';
import { putDeadLetters, resolveDeadLetters, type NewDeadLetter } from '../state/dead-letters.js';
import { addBatchProgress } from '../state/runs.js';
import { dropBatchPayloads, findStage, putStageOnce } from '../state/staging.js';
import type { UpsertBatchInput, UpsertBatchOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import type { MappedRow } from './stages.js';
import { rejectionText, upsertRows } from './target-writes.js';
import { describeRecord } from './validate-batch.js';
import { linkedPairOf } from '../links/pair-links.js';
import { applyWriteBack, upsertLinkedBatch } from '../links/upsert-linked-batch.js';

/**
 * Writes the changed records to the target, then commits bindings, dead
 * letters (the schema's and the mapper's, staged, and the target's), the
 * checkpoint and the batch's result in one state-store
 * transaction. The target write is idempotent (upsert by key), so a crash
 * between the two is repaired by the retry; a retry after the commit returns
 * the recorded result instead of counting the batch twice.
 */
/** Rolls back the commit of a batch another attempt of the same activity committed first. */
class BatchAlreadyCommitted extends Error {}

export function upsertBatch({ db, streams, held }: ActivityDeps) {
  return (input: UpsertBatchInput): Promise<UpsertBatchOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const linked = linkedPairOf(streams, stream); // links/: a linked pair's streams share entity links instead of bindings
      const done = await findStage<UpsertBatchOutput>(db, input.batchId, 'committed');
      if (done) {
        // a linked export's attempt that committed and died before its write-back: this one applies it
        if (linked) await applyWriteBack(db, stream, input.batchId);
        return done;
      }

      // The batch as prepareBatch left it in this worker's memory (routed here by the workflow).
      const batch = held.get(input.batchId);
      if (linked) return upsertLinkedBatch(db, input, linked, batch);
      const scope = { stream: stream.name, system: stream.source.system };
      // Keys are unique: prepareBatch keeps only the last row of a key.
      const { rows, failedKeys, letters: stagedLetters } = batch.mapped;
      const keys = rows.map((r) => r.keyText);
      // A first load's partition on a stream that had no binding has nothing to look up.
      const known = input.unbound ? new Map<string, KnownBinding>() : await loadBindings(db, scope, keys);

      // A replay writes every record: B may hold this version as an older mapper made it
      // (the record failed a later pass at the same version), and the replay is asked for the current mapping.
      const rewrite = input.mode === 'replay';
      const changed: MappedRow[] = [];
      const unchangedKeys: string[] = [];
      for (const row of rows) {
        if (!rewrite && known.get(row.keyText)?.version === row.version) unchangedKeys.push(row.keyText);
        else changed.push(row);
      }

      const returnsIds = stream.target.capabilities.returnsIds;
      const rowsOut: TargetRow[] = changed.map((r) => {
        const binding = known.get(r.keyText);
        return { key: r.key, internalId: binding?.internalId ?? null, op: binding ? 'update' : 'create', version: r.version, projection: r.projection };
      });
      const context = { stream: stream.name, runId: input.runId };
      const result = changed.length ? await callConnector(() => upsertRows(stream.target, rowsOut, context)) : { ids: [], rejected: [] };

      const rejected = new Map(result.rejected.map((r) => [r.index, r]));
      const targetLetters: NewDeadLetter[] = [];
      if (rejected.size > 0) {
        const { raw } = batch;
        for (const [index, rejection] of rejected) {
          const row = changed[index] as MappedRow;
          targetLetters.push({
            recordKey: row.keyText,
            stage: 'target',
            error: `${describeRecord(stream.name, row.key)}: ${rejectionText(rejection)}`,
            issues: rejection.issues ?? [],
            raw: raw[row.index]?.data ?? {},
          });
        }
      }
      const writes: BindingWrite[] = [];
      const output: UpsertBatchOutput = { created: 0, updated: 0, skipped: rows.length - changed.length, failed: rejected.size };
      changed.forEach((row, i) => {
        if (rejected.has(i)) return;
        const key = row.keyText;
        // A target without ids keeps the binding's (none); one with ids may have moved the record.
        writes.push({ key, internalId: returnsIds ? (result.ids[i] ?? null) : (rowsOut[i]?.internalId ?? null), version: row.version, bound: known.has(key) });
        if (known.has(key)) output.updated += 1;
        else output.created += 1;
      });

      const ref = { runId: input.runId, stream: stream.name, batchId: input.batchId };
      const committed = await db
        .transaction()
        .execute(async (trx) => {
          // The marker first: an attempt that timed out but still runs beside its retry waits here
          // for the other's commit, then finds the marker and rolls back, so a batch is bound,
          // counted and dead-lettered once.
          if (!(await putStageOnce(trx, ref, 'committed', output))) throw new BatchAlreadyCommitted();
          await writeBindings(trx, scope, input.runId, writes);
          if (input.mode === 'full') {
            // Records the source still has but that failed or did not change must survive mirror-delete.
            await markSeen(trx, scope, input.runId, [...unchangedKeys, ...failedKeys, ...targetLetters.map((l) => l.recordKey)]);
          }
          await putDeadLetters(trx, { ...scope, runId: input.runId, batchId: input.batchId }, [...stagedLetters, ...targetLetters]);
          // An unchanged record went through too: B already holds it, so an older dead letter of it is stale.
          await resolveDeadLetters(trx, scope, [...writes.map((w) => w.key), ...unchangedKeys]);
          if (input.checkpoint !== null) await saveCheckpoint(trx, stream.name, input.runId, input.checkpoint);
          await addBatchProgress(trx, input.runId, { ...output, failed: output.failed + stagedLetters.length });
          await dropBatchPayloads(trx, input.batchId);
          return true;
        })
        .catch((err: unknown) => {
          if (err instanceof BatchAlreadyCommitted) return false;
          throw err;
        });
      return committed ? output : ((await findStage<UpsertBatchOutput>(db, input.batchId, 'committed')) ?? output);
    });
}
