import type { z } from 'zod';
import type { ResolvedStream } from '../config/define-stream.js';
import { serializeKey, valueAt } from '../core/key.js';
import type { FieldIssue } from '../core/errors.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
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

/**
 * Checks one record of a batch against the stream's zod schema (prepareBatch's
 * step after the fetch): its parsed output, or its dead letter.
 */
export function validateRecord(stream: ResolvedStream, batchId: string, record: RawStage[number], index: number): { key: string[]; data: unknown } | { letter: NewDeadLetter } {
  if (record.key === null) {
    const issues = stream.shape.key.filter((k) => valueAt(record.data, k) == null).map((k) => ({ path: k, message: 'key field is missing' }));
    return { letter: { recordKey: keylessId(batchId, index), stage: 'validate', error: `${describeRecord(stream.name, null)}: ${issuesText(issues)}`, issues, raw: record.data } };
  }
  const result = stream.schema.safeParse(record.data);
  if (result.success) return { key: record.key, data: result.data };
  const issues = zodIssues(result.error);
  return { letter: { recordKey: serializeKey(record.key), stage: 'validate', error: `${describeRecord(stream.name, record.key)}: ${issuesText(issues)}`, issues, raw: record.data } };
}
