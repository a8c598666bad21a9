import { sql } from 'kysely';
import type { StateDb } from './db.js';

/**
 * The state-store tables whose rows runs update or delete: batches deleted
 * after commit, bindings (and a linked pair's links) rewritten by each pass, dead letters resolved, one
 * checkpoint and run row updated per batch.
 */
export const CHURNED_TABLES = ['ferry_staging', 'ferry_binding_keys', 'ferry_links', 'ferry_dead_letters', 'ferry_checkpoints', 'ferry_runs'] as const;

/** Dead rows a table may hold before it is vacuumed: this many, plus DEAD_SHARE of its live rows (autovacuum's rule, a little lazier). */
const DEAD_MIN = 1_000;
const DEAD_SHARE = 0.1;

export interface VacuumResult {
  /** the tables vacuumed */
  vacuumed: string[];
}

/**
 * Vacuums the state-store tables that hold more dead rows than the rule
 * allows, so the state store stays bounded on a Postgres where autovacuum is
 * off (it was on the machine ferry was measured on; without it a deleted
 * staging row's space was never reused). With autovacuum on this mostly
 * finds nothing to do. The dead-row counts come from Postgres's statistics,
 * which it keeps whether autovacuum runs or not. SKIP_LOCKED: a table that
 * another worker is vacuuming is left to it.
 */
export async function vacuumChurnedTables(db: StateDb): Promise<VacuumResult> {
  const { rows } = await sql<{ table: string; dead: string; live: string }>`
    select relname as table, n_dead_tup as dead, n_live_tup as live from pg_stat_user_tables
    where schemaname = current_schema() and relname = any(${CHURNED_TABLES as readonly string[]}::text[])`.execute(db);
  const due = rows.filter((r) => Number(r.dead) > DEAD_MIN + DEAD_SHARE * Number(r.live)).map((r) => r.table);
  for (const table of due) await sql`vacuum (skip_locked) ${sql.table(table)}`.execute(db);
  return { vacuumed: due };
}
