import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import type { FerryDatabase } from './schema.js';
import type { StateDb } from './db.js';

/** A state-store transaction: savepoints need one connection. */
type StateTx = Transaction<FerryDatabase>;

/**
 * The memory of what is already in B: external key -> internal id and last
 * version, per (stream, system). Rows live in ferry_binding_keys under the
 * scope's small id (ferry_binding_scopes); ferry_bindings is a read-only view.
 */
export interface BindingScope {
  stream: string;
  system: string;
}

export interface KnownBinding {
  internalId: string | null;
  version: string | null;
}

/** The scope's id as a scalar subquery: evaluated once per statement, null (no rows match) before its first binding. */
const scopeId = (scope: BindingScope) => sql<number>`(select id from ferry_binding_scopes where stream = ${scope.stream} and system = ${scope.system})`;

export async function loadBindings(db: StateDb, scope: BindingScope, keys: readonly string[]): Promise<Map<string, KnownBinding>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ record_key: string; internal_id: string | null; version: string | null }>`
    select record_key, internal_id, version from ferry_binding_keys
    where scope_id = ${scopeId(scope)} and record_key = any(${keys}::text[])`.execute(db);
  return new Map(rows.map((r) => [r.record_key, { internalId: r.internal_id, version: r.version }]));
}

/** Whether the scope has any binding (a first load on a fresh stream has none). */
export async function hasBindings(db: StateDb, scope: BindingScope): Promise<boolean> {
  const { rows } = await sql<{ bound: boolean }>`select exists (select from ferry_binding_keys where scope_id = ${scopeId(scope)}) as bound`.execute(db);
  return rows[0]?.bound ?? false;
}

export interface BindingWrite {
  key: string;
  internalId: string | null;
  version: string;
  /** the key had a binding when the batch loaded them (loadBindings) */
  bound: boolean;
}

/** Names the scope by an id, once; concurrent first writers agree through the unique constraint. */
async function ensureScope(db: StateTx, scope: BindingScope): Promise<void> {
  await sql`
    insert into ferry_binding_scopes (stream, system)
    select ${scope.stream}, ${scope.system}
    where not exists (select from ferry_binding_scopes where stream = ${scope.stream} and system = ${scope.system})
    on conflict (stream, system) do nothing`.execute(db);
}

const UNIQUE_VIOLATION = '23505';

/**
 * Writes the batch's bindings, inside the batch's commit transaction. Keys
 * that had no binding are inserted without a conflict check (a first load:
 * about 40% cheaper); should one have been bound since it was loaded, the
 * insert is undone to a savepoint and every write goes through the upsert.
 */
export async function writeBindings(trx: StateTx, scope: BindingScope, runId: string, writes: readonly BindingWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await ensureScope(trx, scope);
  let upserts = writes.filter((w) => w.bound);
  const inserts = writes.filter((w) => !w.bound);
  if (inserts.length > 0) {
    await sql`savepoint ferry_new_bindings`.execute(trx);
    try {
      await sql`
        insert into ferry_binding_keys (scope_id, record_key, internal_id, version, last_seen_run)
        select ${scopeId(scope)}, k, i, v, ${runId} from ${bindingRows(inserts)}`.execute(trx);
      await sql`release savepoint ferry_new_bindings`.execute(trx);
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      await sql`rollback to savepoint ferry_new_bindings`.execute(trx);
      upserts = [...writes];
    }
  }
  if (upserts.length === 0) return;
  await sql`
    insert into ferry_binding_keys (scope_id, record_key, internal_id, version, last_seen_run)
    select ${scopeId(scope)}, k, i, v, ${runId} from ${bindingRows(upserts)}
    on conflict (scope_id, record_key) do update
      set internal_id = excluded.internal_id, version = excluded.version, last_seen_run = excluded.last_seen_run`.execute(trx);
}

const bindingRows = (writes: readonly BindingWrite[]) =>
  sql`unnest(${writes.map((w) => w.key)}::text[], ${writes.map((w) => w.internalId)}::text[], ${writes.map((w) => w.version)}::text[]) as u(k, i, v)`;

/** A full pass marks every key it saw, changed or not, so mirror-delete spares them. */
export async function markSeen(db: StateDb, scope: BindingScope, runId: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    update ferry_binding_keys set last_seen_run = ${runId}
    where scope_id = ${scopeId(scope)} and record_key = any(${keys}::text[]) and last_seen_run <> ${runId}`.execute(db);
}

export async function countBindings(db: StateDb, scope: BindingScope, runId: string): Promise<{ total: number; unseen: number }> {
  const { rows } = await sql<{ total: string; unseen: string }>`
    select count(*) as total, count(*) filter (where last_seen_run <> ${runId}) as unseen
    from ferry_binding_keys where scope_id = ${scopeId(scope)}`.execute(db);
  return { total: Number(rows[0]?.total ?? 0), unseen: Number(rows[0]?.unseen ?? 0) };
}

export async function pageUnseen(
  db: StateDb,
  scope: BindingScope,
  runId: string,
  limit: number,
): Promise<{ key: string; internalId: string | null; version: string | null }[]> {
  const { rows } = await sql<{ record_key: string; internal_id: string | null; version: string | null }>`
    select record_key, internal_id, version from ferry_binding_keys
    where scope_id = ${scopeId(scope)} and last_seen_run <> ${runId}
    order by record_key limit ${limit}`.execute(db);
  return rows.map((r) => ({ key: r.record_key, internalId: r.internal_id, version: r.version }));
}

/** One page of a stream's binding keys in key order, after `afterKey` (read-only; for dry runs). */
export async function pageBindingKeys(db: StateDb, scope: BindingScope, afterKey: string | null, limit: number): Promise<string[]> {
  const after = afterKey === null ? sql`` : sql`and record_key > ${afterKey}`;
  const { rows } = await sql<{ record_key: string }>`
    select record_key from ferry_binding_keys
    where scope_id = ${scopeId(scope)} ${after}
    order by record_key limit ${limit}`.execute(db);
  return rows.map((r) => r.record_key);
}

export async function deleteBindings(db: StateDb, scope: BindingScope, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`delete from ferry_binding_keys where scope_id = ${scopeId(scope)} and record_key = any(${keys}::text[])`.execute(db);
}

export async function forgetBindings(db: StateDb, stream: string): Promise<number> {
  const r = await sql`delete from ferry_binding_keys where scope_id in (select id from ferry_binding_scopes where stream = ${stream})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
