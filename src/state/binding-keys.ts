import type { StateDb } from './db.js';
import type { BindingScope } from './bindings.js';

/** One page of a stream's binding keys in key order, after `afterKey` (read-only; for dry runs). */
export async function pageBindingKeys(db: StateDb, scope: BindingScope, afterKey: string | null, limit: number): Promise<string[]> {
  let q = db
    .selectFrom('ferry_bindings')
    .select('record_key')
    .where('stream', '=', scope.stream)
    .where('system', '=', scope.system);
  if (afterKey !== null) q = q.where('record_key', '>', afterKey);
  const rows = await q.orderBy('record_key').limit(limit).execute();
  return rows.map((r) => r.record_key);
}
