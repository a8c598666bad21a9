import { sql } from 'kysely';
import type { FieldIssue, RecordStage } from '../core/errors.js';
import type { RawRow } from '../core/types.js';
import { encodeRecordsForJsonb } from './codec.js';
import type { StateDb } from './db.js';

export interface NewDeadLetter {
  recordKey: string;
  stage: RecordStage;
  error: string;
  issues: readonly FieldIssue[];
  raw: RawRow;
}

export interface DeadLetterScope {
  stream: string;
  system: string;
  runId: string;
  batchId: string;
}

/**
 * One open dead letter per record: a record that fails again keeps its row,
 * with the newest error and raw data and one more attempt counted. A retried
 * activity (same batch) does not count again.
 */
export async function putDeadLetters(db: StateDb, scope: DeadLetterScope, letters: readonly NewDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await sql`
    insert into ferry_dead_letters (stream, system, record_key, stage, error, issues, raw, run_id, batch_id)
    select ${scope.stream}, ${scope.system}, k, s, e, i::jsonb, r::jsonb, ${scope.runId}, ${scope.batchId}
    from unnest(${letters.map((l) => l.recordKey)}::text[], ${letters.map((l) => l.stage)}::text[],
                ${letters.map((l) => l.error)}::text[], ${letters.map((l) => JSON.stringify(l.issues))}::text[],
                ${letters.map((l) => encodeRecordsForJsonb(l.raw))}::text[]) as u(k, s, e, i, r)
    on conflict (stream, system, record_key) do update
      set stage = excluded.stage, error = excluded.error, issues = excluded.issues, raw = excluded.raw,
          run_id = excluded.run_id, last_failed_at = now(),
          attempts = ferry_dead_letters.attempts + (case when ferry_dead_letters.batch_id = excluded.batch_id then 0 else 1 end),
          batch_id = excluded.batch_id`.execute(db);
}

/**
 * A record that now went through leaves the queue. Most streams have no open
 * dead letter: one index probe first spares sending and matching every key
 * of the batch.
 */
export async function resolveDeadLetters(db: StateDb, scope: { stream: string; system: string }, recordKeys: readonly string[]): Promise<number> {
  if (recordKeys.length === 0) return 0;
  const { rows } = await sql<{ open: boolean }>`
    select exists (select from ferry_dead_letters where stream = ${scope.stream} and system = ${scope.system}) as open`.execute(db);
  if (!rows[0]?.open) return 0;
  const r = await sql`
    delete from ferry_dead_letters
    where stream = ${scope.stream} and system = ${scope.system} and record_key = any(${recordKeys}::text[])`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function countDeadLetters(db: StateDb, stream?: string): Promise<number> {
  let q = db.selectFrom('ferry_dead_letters').select((eb) => eb.fn.countAll<string>().as('n'));
  if (stream) q = q.where('stream', '=', stream);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}
