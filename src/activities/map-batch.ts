import type { ResolvedStream } from '../config/define-stream.js';
import { serializeKey } from '../core/key.js';
import { RecordError, errorMessage, type FieldIssue } from '../core/errors.js';
import type { Projection } from '../core/types.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
import type { MappedRow, MappedStage, RawStage } from './stages.js';
import { describeRecord, issuesText, keylessId, validateRecord } from './validate-batch.js';
import { yieldEvery } from './yield.js';

function isProjection(value: unknown): value is Projection {
  const p = value as Projection | null;
  return typeof p === 'object' && p !== null && typeof p.kind === 'string' && typeof p.fields === 'object' && p.fields !== null;
}

/**
 * Validates and maps the records of a batch, one record at a time (prepareBatch's
 * steps after the fetch), so the schema's parsed output of a record lives only
 * until its projection is made. Records failing the schema or the mapper
 * become dead letters, committed by upsertBatch with the batch.
 */
export async function mapRecords(stream: ResolvedStream, batchId: string, raw: RawStage): Promise<MappedStage> {
  const failedKeys: string[] = [];
  const rows: MappedRow[] = [];
  const invalid: NewDeadLetter[] = [];
  const unmapped: NewDeadLetter[] = [];
  const pause = yieldEvery();

  for (let index = 0; index < raw.length; index++) {
    const turn = pause();
    if (turn) await turn; // `await undefined` would still suspend once per record
    const record = raw[index] as RawStage[number];
    const valid = validateRecord(stream, batchId, record, index);
    if ('letter' in valid) {
      invalid.push(valid.letter);
      failedKeys.push(record.key ? serializeKey(record.key) : keylessId(batchId, index));
      continue;
    }
    const { key, data } = valid;
    const keyText = serializeKey(key);
    let failure: { message: string; issues: readonly FieldIssue[] } | undefined;
    try {
      const projection = stream.map(data, { stream: stream.name, key });
      if (isProjection(projection)) rows.push({ index, key, keyText, version: record.version, projection });
      else failure = { message: 'map returned no projection (expected { kind, fields })', issues: [] };
    } catch (err) {
      failure =
        err instanceof RecordError
          ? { message: issuesText(err.issues) || err.message, issues: err.issues }
          : { message: `map threw ${err instanceof Error ? err.name : 'a value'}: ${errorMessage(err)}`, issues: [] };
    }
    if (failure) {
      unmapped.push({ recordKey: keyText, stage: 'map', error: `${describeRecord(stream.name, key)}: ${failure.message}`, issues: failure.issues, raw: record.data });
      failedKeys.push(keyText);
    }
  }
  return { rows, failedKeys, letters: [...invalid, ...unmapped] };
}
