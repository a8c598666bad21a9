import { sql } from 'kysely';
import type { CursorStrategy } from '../connectors/source.js';
import type { StateDb } from '../state/db.js';

/** A stream as the state readers need it: its name and how its cursor works. */
export interface StreamRef {
  name: string;
  cursor: CursorStrategy['strategy'];
}

/**
 * What lag is measured from:
 * - `cursor`: the checkpoint's own value, for timestamp cursors (the newest source change committed to the target);
 * - `checkpoint`: when the checkpoint was last written, for other cursors;
 * - `last-success`: the start of the last successful run, for streams without a checkpoint (snapshot streams).
 */
export type LagBasis = 'cursor' | 'checkpoint' | 'last-success';

/** Per stream, what the state store says now. */
export interface StreamState {
  stream: string;
  deadLetters: number;
  /** finish time of the newest sync run with status succeeded (dead-letter replays do not count) */
  lastSuccessAt: Date | null;
  /** the point in time the target is known to reflect the source up to */
  syncedUpTo: Date | null;
  lagBasis: LagBasis | null;
  /** now − syncedUpTo, in seconds (never negative); null when nothing is known yet */
  lagSeconds: number | null;
}

interface Row {
  stream: string;
  dead_letters: string;
  last_success_started: Date | null;
  last_success_finished: Date | null;
  cursor_value: string | null;
  checkpoint_at: Date | null;
  now: Date;
}

/**
 * Reads dead-letter counts, last success and lag of the given streams in one
 * query, inside a read-only transaction with a statement timeout so that a
 * scrape can never hold the state store for long. Each stream costs an index
 * lookup on ferry_checkpoints, an index-range count on ferry_dead_letters and a
 * walk of its newest runs (index on stream, started_at).
 */
export async function readStreamStates(db: StateDb, streams: readonly StreamRef[], timeoutMs = 5_000): Promise<StreamState[]> {
  if (streams.length === 0) return [];
  const names = streams.map((s) => s.name);
  const rows = await db.transaction().execute(async (trx) => {
    await sql`select set_config('statement_timeout', ${String(Math.max(1, Math.floor(timeoutMs)))}, true)`.execute(trx);
    const r = await sql<Row>`
      select s.stream,
             (select count(*) from ferry_dead_letters d where d.stream = s.stream) as dead_letters,
             ls.started_at as last_success_started,
             ls.finished_at as last_success_finished,
             c.cursor ->> 'value' as cursor_value,
             c.updated_at as checkpoint_at,
             now() as now
      from unnest(${names}::text[]) as s(stream)
      left join ferry_checkpoints c on c.stream = s.stream
      left join lateral (
        select r.started_at, r.finished_at from ferry_runs r
        where r.stream = s.stream and r.status = 'succeeded' and r.mode <> 'replay'
        order by r.started_at desc limit 1
      ) ls on true`.execute(trx);
    return r.rows;
  });
  const byName = new Map(streams.map((s) => [s.name, s]));
  return rows.map((row) => {
    const ref = byName.get(row.stream);
    let basis: LagBasis | null = null;
    let syncedUpTo: Date | null = null;
    const cursorTime = ref?.cursor === 'timestamp' && row.cursor_value !== null ? parsePgTimestamp(row.cursor_value) : null;
    if (cursorTime) [basis, syncedUpTo] = ['cursor', cursorTime];
    else if (row.checkpoint_at) [basis, syncedUpTo] = ['checkpoint', row.checkpoint_at];
    else if (row.last_success_started) [basis, syncedUpTo] = ['last-success', row.last_success_started];
    return {
      stream: row.stream,
      deadLetters: Number(row.dead_letters),
      lastSuccessAt: row.last_success_finished,
      syncedUpTo,
      lagBasis: basis,
      lagSeconds: syncedUpTo ? Math.max(0, (row.now.getTime() - syncedUpTo.getTime()) / 1000) : null,
    };
  });
}

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?$/i;

/**
 * Parses a timestamp as Postgres prints it ('2026-01-01 10:00:00.123456+00',
 * '+05:30', or without zone, read as UTC) or as ISO 8601, to millisecond
 * precision. Null for anything else (a cursor column of another type).
 */
export function parsePgTimestamp(text: string): Date | null {
  const m = PG_TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(utc)) return null;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(/:/g, '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0) + Number(digits.slice(4, 6) || 0) / 60);
  }
  return new Date(utc - offsetMinutes * 60_000);
}
