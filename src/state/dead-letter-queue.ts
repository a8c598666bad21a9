import { sql } from 'kysely';
import type { FieldIssue } from '../core/errors.js';
import type { RawRow } from '../core/types.js';
import { decodeParsed, decodeRecords } from './codec.js';
import type { StateDb } from './db.js';
import type { DeadLetterRow } from './schema.js';

/**
 * The dead-letter queue as operators see it: list, show, discard, and the
 * paging a replay reads it with. Ids are ferry_dead_letters.id (bigserial,
 * kept as text: pg returns int8 as a string).
 */

export interface DeadLetterSummary {
  id: string;
  stream: string;
  system: string;
  /** the stored external key (a JSON array of the key parts, or "(no key) …" for a record without one) */
  recordKey: string;
  stage: string;
  error: string;
  attempts: number;
  runId: string;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  issues: FieldIssue[];
  raw: RawRow;
  batchId: string;
}

const summaryColumns = ['id', 'stream', 'system', 'record_key', 'stage', 'error', 'attempts', 'run_id', 'first_failed_at', 'last_failed_at'] as const;

type SummaryRow = Pick<DeadLetterRow, (typeof summaryColumns)[number]>;

function toSummary(r: SummaryRow): DeadLetterSummary {
  return {
    id: String(r.id),
    stream: r.stream,
    system: r.system,
    recordKey: r.record_key,
    stage: r.stage,
    error: r.error,
    attempts: r.attempts,
    runId: r.run_id,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
  };
}

function toDetail(r: DeadLetterRow): DeadLetterDetail {
  return {
    ...toSummary(r),
    issues: Array.isArray(r.issues) ? (r.issues as unknown as FieldIssue[]) : [],
    raw: (typeof r.raw === 'object' && r.raw !== null && !Array.isArray(r.raw) ? decodeParsed<RawRow>(r.raw) : {}),
    batchId: r.batch_id,
  };
}

/** The oldest first (by id), at most `limit`, with the total the filter matches. */
export async function listDeadLetters(db: StateDb, filter: { stream?: string | undefined; limit: number }): Promise<{ total: number; rows: DeadLetterSummary[] }> {
  let rows = db.selectFrom('ferry_dead_letters').select(summaryColumns).orderBy('id').limit(filter.limit);
  let count = db.selectFrom('ferry_dead_letters').select((eb) => eb.fn.countAll<string>().as('n'));
  if (filter.stream !== undefined) {
    rows = rows.where('stream', '=', filter.stream);
    count = count.where('stream', '=', filter.stream);
  }
  const [found, total] = await Promise.all([rows.execute(), count.executeTakeFirst()]);
  return { total: Number(total?.n ?? 0), rows: found.map(toSummary) };
}

/** The dead letters with these ids that exist, ordered by id. */
export async function getDeadLetters(db: StateDb, ids: readonly string[]): Promise<DeadLetterDetail[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('ferry_dead_letters').selectAll().where('id', 'in', [...ids]).orderBy('id').execute();
  return rows.map(toDetail);
}

/** Which of these streams have dead letters, and how many. */
export async function deadLetterCounts(db: StateDb, streams: readonly string[]): Promise<Map<string, number>> {
  if (streams.length === 0) return new Map();
  const rows = await db
    .selectFrom('ferry_dead_letters')
    .select(['stream', (eb) => eb.fn.countAll<string>().as('n')])
    .where('stream', 'in', [...streams])
    .groupBy('stream')
    .execute();
  return new Map(rows.map((r) => [r.stream, Number(r.n)]));
}

/** What to act on: every dead letter of a stream, or some of its ids. */
export interface DeadLetterSelection {
  stream: string;
  /** absent: all of the stream's dead letters */
  ids?: readonly string[] | undefined;
}

/** Removes the selected dead letters; returns what was removed. */
export async function discardDeadLetters(db: StateDb, selection: DeadLetterSelection): Promise<DeadLetterSummary[]> {
  let q = db.deleteFrom('ferry_dead_letters').where('stream', '=', selection.stream);
  if (selection.ids) {
    if (selection.ids.length === 0) return [];
    q = q.where('id', 'in', [...selection.ids]);
  }
  const rows = await q.returning(summaryColumns).execute();
  return rows.map(toSummary).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

/**
 * The selected dead letters of a replay with afterId < id <= maxId. Ids are
 * bigints compared as numbers: they travel as strings (pg returns int8 as a
 * string), and a comparison or an ORDER BY on that text would put "10" before
 * "9" — a keyset over it skips rows. So every comparison and the order are on
 * the qualified column `d.id`, which no output alias can stand in for.
 */
function replayWindow(selection: DeadLetterSelection, window: { afterId: string; maxId?: string | undefined }) {
  return sql`d.stream = ${selection.stream}
      and d.id > ${window.afterId}::bigint
      and (${window.maxId === undefined ? sql`true` : sql`d.id <= ${window.maxId}::bigint`})
      and (${selection.ids ? sql`d.id = any(${[...selection.ids]}::bigint[])` : sql`true`})`;
}

/**
 * Fixes the extent of a replay when it begins: the highest selected id and how
 * many there are. The replay reads only up to that id, so a dead letter that
 * appears meanwhile (none should: the replay holds the stream's lock) is not
 * pulled into it.
 */
export async function replayExtent(db: StateDb, selection: DeadLetterSelection): Promise<{ maxId: string; count: number }> {
  const { rows } = await sql<{ max_id: string | null; n: string }>`
    select max(d.id)::text as max_id, count(*) as n from ferry_dead_letters d
    where ${replayWindow(selection, { afterId: '0' })}`.execute(db);
  return { maxId: rows[0]?.max_id ?? '0', count: Number(rows[0]?.n ?? 0) };
}

export interface ReplayCandidate {
  id: string;
  system: string;
  recordKey: string;
  raw: RawRow;
}

/**
 * One page of a replay: the selected dead letters with afterId < id <= maxId,
 * by id (as a number). Keyset paging on the id: rows that fail again keep
 * their id and are not read twice; rows that succeed are gone.
 */
export async function pageReplay(
  db: StateDb,
  selection: DeadLetterSelection,
  page: { afterId: string; maxId: string; limit: number },
): Promise<ReplayCandidate[]> {
  const { rows } = await sql<{ id: string; system: string; record_key: string; raw: string }>`
    select d.id, d.system, d.record_key, d.raw::text as raw from ferry_dead_letters d
    where ${replayWindow(selection, page)}
    order by d.id
    limit ${page.limit}`.execute(db);
  return rows.map((r) => ({ id: String(r.id), system: r.system, recordKey: r.record_key, raw: decodeRecords<RawRow>(r.raw) }));
}

/**
 * What a replay left of its selection (id <= maxId): the dead letters still in
 * the queue, and of those the ones this run failed again (the others it never
 * reached).
 */
export async function replayLeft(
  db: StateDb,
  selection: DeadLetterSelection,
  scope: { maxId: string; runId: string },
): Promise<{ remaining: number; failedAgain: number }> {
  const { rows } = await sql<{ remaining: string; failed_again: string }>`
    select count(*) as remaining, count(*) filter (where d.run_id = ${scope.runId}) as failed_again
    from ferry_dead_letters d
    where ${replayWindow(selection, { afterId: '0', maxId: scope.maxId })}`.execute(db);
  return { remaining: Number(rows[0]?.remaining ?? 0), failedAgain: Number(rows[0]?.failed_again ?? 0) };
}

/**
 * A dead letter the replay could not even stage (its key or system no longer
 * match the stream): it failed again. Like putDeadLetters, a retried activity
 * (same batch id) does not count the attempt twice.
 */
export async function failAgain(db: StateDb, scope: { runId: string; batchId: string }, letters: readonly { id: string; error: string }[]): Promise<void> {
  if (letters.length === 0) return;
  await sql`
    update ferry_dead_letters d
    set error = u.e, run_id = ${scope.runId}, last_failed_at = now(),
        attempts = d.attempts + (case when d.batch_id = ${scope.batchId} then 0 else 1 end),
        batch_id = ${scope.batchId}
    from unnest(${letters.map((l) => l.id)}::bigint[], ${letters.map((l) => l.error)}::text[]) as u(id, e)
    where d.id = u.id`.execute(db);
}

/** The dead letters a run (a replay) left or touched: those that failed in it. */
export async function deadLettersOfRun(db: StateDb, runId: string): Promise<DeadLetterSummary[]> {
  const rows = await db.selectFrom('ferry_dead_letters').select(summaryColumns).where('run_id', '=', runId).orderBy('id').execute();
  return rows.map(toSummary);
}
