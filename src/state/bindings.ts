import { sql } from 'kysely';
import type { StateDb } from './db.js';

/** The memory of what is already in B: external key -> internal id and last version. */
export interface BindingScope {
  stream: string;
  system: string;
}

export interface KnownBinding {
  internalId: string | null;
  version: string | null;
}

export async function loadBindings(db: StateDb, scope: BindingScope, keys: readonly string[]): Promise<Map<string, KnownBinding>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ record_key: string; internal_id: string | null; version: string | null }>`
    select record_key, internal_id, version from ferry_bindings
    where stream = ${scope.stream} and system = ${scope.system} and record_key = any(${keys}::text[])`.execute(db);
  return new Map(rows.map((r) => [r.record_key, { internalId: r.internal_id, version: r.version }]));
}

export interface BindingWrite {
  key: string;
  internalId: string | null;
  version: string;
}

/** One statement for the whole batch. */
export async function writeBindings(db: StateDb, scope: BindingScope, runId: string, writes: readonly BindingWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await sql`
    insert into ferry_bindings (stream, system, record_key, internal_id, version, last_seen_run, updated_at)
    select ${scope.stream}, ${scope.system}, k, i, v, ${runId}, now()
    from unnest(${writes.map((w) => w.key)}::text[], ${writes.map((w) => w.internalId)}::text[], ${writes.map((w) => w.version)}::text[]) as u(k, i, v)
    on conflict (stream, system, record_key) do update
      set internal_id = excluded.internal_id, version = excluded.version,
          last_seen_run = excluded.last_seen_run, updated_at = excluded.updated_at`.execute(db);
}

/** A full pass marks every key it saw, changed or not, so mirror-delete spares them. */
export async function markSeen(db: StateDb, scope: BindingScope, runId: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    update ferry_bindings set last_seen_run = ${runId}
    where stream = ${scope.stream} and system = ${scope.system}
      and record_key = any(${keys}::text[]) and last_seen_run <> ${runId}`.execute(db);
}

export async function countBindings(db: StateDb, scope: BindingScope, runId: string): Promise<{ total: number; unseen: number }> {
  const { rows } = await sql<{ total: string; unseen: string }>`
    select count(*) as total, count(*) filter (where last_seen_run <> ${runId}) as unseen
    from ferry_bindings where stream = ${scope.stream} and system = ${scope.system}`.execute(db);
  return { total: Number(rows[0]?.total ?? 0), unseen: Number(rows[0]?.unseen ?? 0) };
}

export async function pageUnseen(
  db: StateDb,
  scope: BindingScope,
  runId: string,
  limit: number,
): Promise<{ key: string; internalId: string | null; version: string | null }[]> {
  const rows = await db
    .selectFrom('ferry_bindings')
    .select(['record_key', 'internal_id', 'version'])
    .where('stream', '=', scope.stream)
    .where('system', '=', scope.system)
    .where('last_seen_run', '<>', runId)
    .orderBy('record_key')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ key: r.record_key, internalId: r.internal_id, version: r.version }));
}

export async function deleteBindings(db: StateDb, scope: BindingScope, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`delete from ferry_bindings where stream = ${scope.stream} and system = ${scope.system} and record_key = any(${keys}::text[])`.execute(db);
}

export async function forgetBindings(db: StateDb, stream: string): Promise<number> {
  const r = await db.deleteFrom('ferry_bindings').where('stream', '=', stream).executeTakeFirst();
  return Number(r.numDeletedRows);
}
