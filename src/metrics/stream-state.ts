import { sql } from 'kysely';
import type { Source } from '../connectors/source.js';
import type { Cursor } from '../core/types.js';
import type { StateDb } from '../state/db.js';

/** A stream as the state readers need it: its name and its source's reading of a checkpoint's lag. */
export interface StreamRef {
  name: string;
  /** the source's `lag`; absent for a stream no longer in the config */
  lag?: Source['lag'] | undefined;
}

/**
 * What lag is measured from:
 * - `cursor`: the time the checkpoint itself tells, as the source reads it (a timestamp cursor: the newest source change committed to the target);
 * - `checkpoint`: when the checkpoint was last written, for checkpoints that tell no time;
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
  cursor: Cursor | null;
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
             c.cursor,
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
    const cursorLag = row.cursor !== null && ref?.lag ? ref.lag(row.cursor, row.now) : null;
    if (cursorLag !== null) [basis, syncedUpTo] = ['cursor', new Date(row.now.getTime() - cursorLag * 1000)];
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
