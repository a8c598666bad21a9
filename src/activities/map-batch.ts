import type { ResolvedStream } from '../config/define-stream.js';
import { serializeKey } from '../core/key.js';
import { RecordError, errorMessage, type FieldIssue } from '../core/errors.js';
import type { Projection } from '../core/types.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
import type { MappedRow, MappedStage, RawStage } from './stages.js';
import { describeRecord, issuesText, keylessId, type Validated } from './validate-batch.js';
import { yieldEvery } from './yield.js';

function isProjection(value: unknown): value is Projection {
  const p = value as Projection | null;
  return typeof p === 'object' && p !== null && typeof p.kind === 'string' && typeof p.fields === 'object' && p.fields !== null;
}

/**
 * Maps the records that passed validation into projections (the step of
 * prepareBatch after validation). A mapper that throws sends that record to
 * the dead letters, committed by upsertBatch with the schema's.
 */
export async function mapRecords(stream: ResolvedStream, batchId: string, raw: RawStage, validated: Validated): Promise<MappedStage> {
  const passed = new Set(validated.valid.map((v) => v.index));
  const failedKeys = raw.flatMap((r, i) => (passed.has(i) ? [] : [r.key ? serializeKey(r.key) : keylessId(batchId, i)]));
  const rows: MappedRow[] = [];
  const letters: NewDeadLetter[] = [];
  const pause = yieldEvery();

  for (const { index, key, data } of validated.valid) {
    await pause();
    const record = raw[index] as RawStage[number];
    const fail = (message: string, issues: readonly FieldIssue[]) => {
      letters.push({ recordKey: serializeKey(key), stage: 'map', error: `${describeRecord(stream.name, key)}: ${message}`, issues, raw: record.data });
      failedKeys.push(serializeKey(key));
    };
    try {
      const projection = stream.map(data, { stream: stream.name, key });
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
  return { rows, failedKeys, letters: [...validated.letters, ...letters] };
}
