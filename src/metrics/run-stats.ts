import { sql } from 'kysely';
import type { StateDb } from '../state/db.js';

/** Finished runs of one stream (or all) in a time window, from ferry_runs. */
export interface RunWindowStats {
  runs: { finished: number; succeeded: number; warning: number; failed: number; cancelled: number };
  /** succeeded ÷ finished; null when no run finished */
  successRate: number | null;
  records: { exported: number; created: number; updated: number; deleted: number; skipped: number; failed: number };
  /** mean start-to-finish time of the runs that completed their pass (succeeded or warning); null when none */
  averageSyncSeconds: number | null;
}

interface Row {
  stream: string;
  finished: string;
  succeeded: string;
  warning: string;
  failed_runs: string;
  cancelled: string;
  created: string;
  updated: string;
  deleted: string;
  skipped: string;
  failed: string;
  completed: string;
  completed_seconds: number | null;
}

type Totals = Record<Exclude<keyof Row, 'stream'>, number>;

const ZERO: Totals = {
  finished: 0, succeeded: 0, warning: 0, failed_runs: 0, cancelled: 0,
  created: 0, updated: 0, deleted: 0, skipped: 0, failed: 0, completed: 0, completed_seconds: 0,
};

function totals({ stream: _stream, ...r }: Row): Totals {
  const t = { ...ZERO };
  for (const key of Object.keys(ZERO) as (keyof Totals)[]) t[key] = Number(r[key] ?? 0);
  return t;
}

function add(a: Totals, b: Totals): Totals {
  const t = { ...a };
  for (const key of Object.keys(ZERO) as (keyof Totals)[]) t[key] += b[key];
  return t;
}

function toStats(t: Totals): RunWindowStats {
  return {
    runs: { finished: t.finished, succeeded: t.succeeded, warning: t.warning, failed: t.failed_runs, cancelled: t.cancelled },
    successRate: t.finished > 0 ? t.succeeded / t.finished : null,
    records: { exported: t.created + t.updated + t.deleted, created: t.created, updated: t.updated, deleted: t.deleted, skipped: t.skipped, failed: t.failed },
    averageSyncSeconds: t.completed > 0 ? t.completed_seconds / t.completed : null,
  };
}

/** The figures of a window without runs. */
export const noRuns = (): RunWindowStats => toStats(ZERO);

/**
 * Aggregates the runs that finished at or after `since`, per stream and in
 * total. A run counts in the window of its finish time.
 */
export async function runWindowStats(db: StateDb, since: Date): Promise<{ total: RunWindowStats; byStream: Map<string, RunWindowStats> }> {
  const { rows } = await sql<Row>`
    select stream,
           count(*) as finished,
           count(*) filter (where status = 'succeeded') as succeeded,
           count(*) filter (where status = 'warning') as warning,
           count(*) filter (where status = 'failed') as failed_runs,
           count(*) filter (where status = 'cancelled') as cancelled,
           coalesce(sum(created), 0) as created,
           coalesce(sum(updated), 0) as updated,
           coalesce(sum(deleted), 0) as deleted,
           coalesce(sum(skipped), 0) as skipped,
           coalesce(sum(failed), 0) as failed,
           count(*) filter (where status in ('succeeded', 'warning')) as completed,
           sum(extract(epoch from finished_at - started_at)) filter (where status in ('succeeded', 'warning'))::float8 as completed_seconds
    from ferry_runs
    where status <> 'running' and finished_at >= ${since}
    group by stream
    order by stream`.execute(db);

  const perStream = rows.map((r) => [r.stream, totals(r)] as const);
  const byStream = new Map(perStream.map(([stream, t]) => [stream, toStats(t)]));
  const total = toStats(perStream.reduce((acc, [, t]) => add(acc, t), ZERO));
  return { total, byStream };
}
