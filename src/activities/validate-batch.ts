import type { z } from 'zod';
import { serializeKey, valueAt } from '../core/key.js';
import type { FieldIssue } from '../core/errors.js';
import type { NewDeadLetter } from '../state/dead-letters.js';
import { getStage, putStage } from '../state/staging.js';
import type { BatchInput, StageOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';
import type { RawStage, ValidStage } from './stages.js';

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

/** Checks every staged record against the stream's zod schema; failures become dead letters (staged for upsertBatch). */
export function validateBatch({ db, streams }: ActivityDeps) {
  return (input: BatchInput): Promise<StageOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const raw = await getStage<RawStage>(db, input.batchId, 'raw');
      const passed: number[] = [];
      const letters: NewDeadLetter[] = [];
      raw.forEach((record, index) => {
        if (record.key === null) {
          const issues = stream.shape.key.filter((k) => valueAt(record.data, k) == null).map((k) => ({ path: k, message: 'key field is missing' }));
          letters.push({ recordKey: keylessId(input.batchId, index), stage: 'validate', error: `${describeRecord(stream.name, null)}: ${issuesText(issues)}`, issues, raw: record.data });
          return;
        }
        const result = stream.schema.safeParse(record.data);
        if (result.success) {
          passed.push(index);
          return;
        }
        const issues = zodIssues(result.error);
        letters.push({ recordKey: serializeKey(record.key), stage: 'validate', error: `${describeRecord(stream.name, record.key)}: ${issuesText(issues)}`, issues, raw: record.data });
      });
      await putStage<ValidStage>(db, { runId: input.runId, stream: stream.name, batchId: input.batchId }, 'valid', { passed, letters });
      return { passed: passed.length, failed: letters.length };
    });
}
