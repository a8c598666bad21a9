import { serializeKey } from '../core/key.js';
import { RecordError, errorMessage, type FieldIssue } from '../core/errors.js';
import type { Projection } from '../core/types.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
import { getStage, putStage } from '../state/staging.js';
import type { BatchInput, StageOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';
import type { MappedRow, MappedStage, RawStage, ValidStage } from './stages.js';
import { describeRecord, issuesText, keylessId, zodIssues } from './validate-batch.js';

function isProjection(value: unknown): value is Projection {
  const p = value as Projection | null;
  return typeof p === 'object' && p !== null && typeof p.kind === 'string' && typeof p.fields === 'object' && p.fields !== null;
}

/**
 * Maps the records that passed validation into projections. The schema is
 * applied again to get its parsed output (only the pass/fail decision was
 * staged, to keep staging small); a mapper that throws sends that record to
 * the dead-letter table (staged with the schema's dead letters, committed by upsertBatch).
 */
export function mapBatch({ db, streams }: ActivityDeps) {
  return (input: BatchInput): Promise<StageOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const raw = await getStage<RawStage>(db, input.batchId, 'raw');
      const valid = await getStage<ValidStage>(db, input.batchId, 'valid');
      const { passed } = valid;
      const passedSet = new Set(passed);
      const failedKeys = raw.flatMap((r, i) => (passedSet.has(i) ? [] : [r.key ? serializeKey(r.key) : keylessId(input.batchId, i)]));
      const rows: MappedRow[] = [];
      const letters: NewDeadLetter[] = [];

      for (const index of passed) {
        const record = raw[index];
        if (!record?.key) continue;
        const key = record.key;
        const fail = (message: string, issues: readonly FieldIssue[], stage: 'validate' | 'map' = 'map') => {
          letters.push({ recordKey: serializeKey(key), stage, error: `${describeRecord(stream.name, key)}: ${message}`, issues, raw: record.data });
          failedKeys.push(serializeKey(key));
        };
        const parsed = stream.schema.safeParse(record.data);
        if (!parsed.success) {
          const issues = zodIssues(parsed.error);
          fail(issuesText(issues), issues, 'validate');
          continue;
        }
        try {
          const projection = stream.map(parsed.data, { stream: stream.name, key });
          if (!isProjection(projection)) {
            fail('map returned no projection (expected { kind, fields })', []);
            continue;
          }
          rows.push({ index, key, version: record.version, projection });
        } catch (err) {
          if (err instanceof RecordError) fail(issuesText(err.issues) || err.message, err.issues);
          else fail(`map threw ${err instanceof Error ? err.name : 'a value'}: ${errorMessage(err)}`, []);
        }
      }

      await putStage<MappedStage>(db, { runId: input.runId, stream: stream.name, batchId: input.batchId }, 'mapped', {
        rows,
        failedKeys,
        letters: [...valid.letters, ...letters],
      });
      return { passed: rows.length, failed: letters.length };
    });
}
