import { sql } from 'kysely';
import type { StateDb } from './db.js';

/**
 * The conflict log: every conflict a linked pair found, with both versions,
 * the values last synced, what was written, the policy and why. It holds
 * record data, as the state store may; Temporal history never sees it.
 */
export interface ConflictEntry {
  pair: string;
  stream: string;
  runId: string;
  batchId: string;
  localKey: string | null;
  remoteKey: string | null;
  policy: string;
  /** 'incoming' | 'current' | 'merged', and the system it means */
  winner: string;
  reason: string;
  incoming: Record<string, unknown>;
  current: Record<string, unknown>;
  base: Record<string, unknown> | null;
  result: Record<string, unknown>;
}

/** One statement per batch; a retried batch logs its conflicts once. */
export async function putConflicts(db: StateDb, entries: readonly ConflictEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const col = <T>(f: (e: ConflictEntry) => T) => entries.map(f);
  const j = (v: unknown) => (v === null ? null : JSON.stringify(v));
  await sql`
    insert into ferry_conflicts (pair, stream, run_id, batch_id, local_key, remote_key, policy, winner, reason, incoming, current, base, result)
    select p, s, r, b, lk, rk, po, w, re, i::jsonb, c::jsonb, ba::jsonb, res::jsonb
    from unnest(${col((e) => e.pair)}::text[], ${col((e) => e.stream)}::text[], ${col((e) => e.runId)}::text[], ${col((e) => e.batchId)}::text[],
                ${col((e) => e.localKey)}::text[], ${col((e) => e.remoteKey)}::text[], ${col((e) => e.policy)}::text[], ${col((e) => e.winner)}::text[],
                ${col((e) => e.reason)}::text[], ${col((e) => j(e.incoming))}::text[], ${col((e) => j(e.current))}::text[], ${col((e) => j(e.base))}::text[],
                ${col((e) => j(e.result))}::text[]) as u(p, s, r, b, lk, rk, po, w, re, i, c, ba, res)
    on conflict do nothing`.execute(db);
}

export interface ConflictRow extends Omit<ConflictEntry, 'batchId'> {
  id: string;
  createdAt: Date;
}

export async function listConflicts(db: StateDb, options: { pair?: string | undefined; limit: number }): Promise<ConflictRow[]> {
  const { rows } = await sql<{
    id: string; pair: string; stream: string; run_id: string; local_key: string | null; remote_key: string | null; policy: string; winner: string; reason: string;
    incoming: Record<string, unknown>; current: Record<string, unknown>; base: Record<string, unknown> | null; result: Record<string, unknown>; created_at: Date;
  }>`
    select id, pair, stream, run_id, local_key, remote_key, policy, winner, reason, incoming, current, base, result, created_at
    from ferry_conflicts where (${options.pair ?? null}::text is null or pair = ${options.pair ?? null})
    order by created_at desc, id desc limit ${options.limit}`.execute(db);
  return rows.map((r) => ({
    id: r.id, pair: r.pair, stream: r.stream, runId: r.run_id, localKey: r.local_key, remoteKey: r.remote_key, policy: r.policy, winner: r.winner,
    reason: r.reason, incoming: r.incoming, current: r.current, base: r.base, result: r.result, createdAt: r.created_at,
  }));
}
