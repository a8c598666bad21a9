import type { z } from 'zod';
import type { ResolvedStream } from '../config/define-stream.js';
import { serializeKey, valueAt } from '../core/key.js';
import type { FieldIssue } from '../core/errors.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
import { yieldEvery } from './yield.js';
import type { RawStage } from './stages.js';

export function describeRecord(stream: string, key: readonly string[] | null): string {
  return `stream "${stream}", record ${key ? serializeKey(key) : '(no key)'}`;
}

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(record)', message: i.message }));
}

export function issuesText(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `field "${i.path}": ${i.message}`).join('; ');
}

/** Dead-letter key for a record without a usable key: unique to its place in the batch. */
export const keylessId = (batchId: string, index: number) => `(no key) ${batchId}#${index}`;

/** A record that passed the schema: its index in the raw batch and the schema's parsed output. */
export interface ValidRecord {
  index: number;
  key: string[];
  data: unknown;
}

export interface Validated {
  valid: ValidRecord[];
  /** dead letters of the records that did not pass (committed by upsertBatch with the batch) */
  letters: NewDeadLetter[];
}

/**
 * Checks every record of a batch against the stream's zod schema, in the
 * worker's memory (the step of prepareBatch after the fetch). The parsed output
 * is kept for the mapper, so each record is parsed once.
 */
export async function validateRecords(stream: ResolvedStream, batchId: string, raw: RawStage): Promise<Validated> {
  const valid: ValidRecord[] = [];
  const letters: NewDeadLetter[] = [];
  const pause = yieldEvery();
  for (let index = 0; index < raw.length; index++) {
    await pause();
    const record = raw[index] as RawStage[number];
    if (record.key === null) {
      const issues = stream.shape.key.filter((k) => valueAt(record.data, k) == null).map((k) => ({ path: k, message: 'key field is missing' }));
      letters.push({ recordKey: keylessId(batchId, index), stage: 'validate', error: `${describeRecord(stream.name, null)}: ${issuesText(issues)}`, issues, raw: record.data });
      continue;
    }
    const result = stream.schema.safeParse(record.data);
    if (result.success) {
      valid.push({ index, key: record.key, data: result.data });
      continue;
    }
    const issues = zodIssues(result.error);
    letters.push({ recordKey: serializeKey(record.key), stage: 'validate', error: `${describeRecord(stream.name, record.key)}: ${issuesText(issues)}`, issues, raw: record.data });
  }
  return { valid, letters };
}
