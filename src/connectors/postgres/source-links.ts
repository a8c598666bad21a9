/**
 * What a Postgres source does for a linked pair besides paging: read rows by
 * key (the conflict check of the pair's other stream) and write back the
 * outcome of an export into the source rows.
 */
import type pg from 'pg';
import { ConfigurationError } from '../../core/errors.js';
import type { RawRow } from '../../core/types.js';
import type { WriteBackSpec, WriteBackValue } from '../../links/options.js';
import type { WriteBackRow } from '../source.js';
import { requireColumns } from './catalog.js';
import { asConfigurationError } from './errors.js';
import { quoteIdent } from './identifiers.js';

/** The rows of these keys, one statement: the key columns compared in their own types (indexes apply). */
export async function readByKeys(pool: pg.Pool, table: string, types: Map<string, string>, keyColumns: readonly string[], select: string, keys: readonly (readonly string[])[]): Promise<RawRow[]> {
  if (keys.length === 0) return [];
  const params = keyColumns.map((_, i) => keys.map((k) => k[i] ?? null));
  const list = keyColumns.map((c, i) => `$${i + 1}::text[]`).join(', ');
  const names = keyColumns.map((_, i) => `k${i}`);
  const match = keyColumns.map((c, i) => `t.${quoteIdent(c, 'key column')} = u.${names[i]}::${types.get(c) ?? 'text'}`).join(' and ');
  const columns = select === '*' ? 't.*' : select.split(', ').map((c) => `t.${c}`).join(', ');
  const text = `select ${columns} from ${table} t join unnest(${list}) as u(${names.join(', ')}) on ${match}`;
  try {
    return (await pool.query<RawRow>(text, params)).rows;
  } catch (err) {
    throw asConfigurationError(err, `reading ${table} by key`);
  }
}

/**
 * One UPDATE for a batch of exported records. Each row is matched by the
 * stream's (single-column) key; a success sets `onSuccess`, a failure
 * `onFailure`, a column named by one only is left as is by the other. A record
 * that was already in sync (`written: false`) is updated only when a value
 * other than a `now` differs, so a run over unchanged rows changes no row.
 */
export async function writeBackRows(pool: pg.Pool, table: string, types: Map<string, string>, keyColumns: readonly string[], spec: WriteBackSpec, rows: readonly WriteBackRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (keyColumns.length !== 1) {
    throw new ConfigurationError(`write-back into ${table}: the stream's key has ${keyColumns.length} columns`, 'write-back supports a single-column key');
  }
  const keyColumn = keyColumns[0] as string;
  const success = spec.onSuccess ?? {};
  const failure = spec.onFailure ?? {};
  const columns = [...new Set([...Object.keys(success), ...Object.keys(failure)])];
  requireColumns(types, [keyColumn, ...columns], `write-back into ${table}`);

  const params: unknown[] = [rows.map((r) => r.key[0] ?? null), rows.map((r) => r.ok), rows.map((r) => r.targetId), rows.map((r) => r.error), rows.map((r) => r.written)];
  const expr = (column: string, v: WriteBackValue | undefined): string => {
    const type = types.get(column) ?? 'text';
    const col = `t.${quoteIdent(column, 'write-back column')}`;
    if (v === undefined) return col;
    if (v !== null && typeof v === 'object') {
      if (v.from === 'now') return 'now()';
      // a failure keeps the id the row has; a success clears no error column by accident
      if (v.from === 'targetId') return `coalesce(u.target_id::${type}, ${col})`;
      return `u.error::${type}`;
    }
    params.push(v === null ? null : String(v));
    return `$${params.length}::${type}`;
  };
  const sets: string[] = [];
  const differs: string[] = [];
  for (const column of columns) {
    const value = `case when u.ok then ${expr(column, success[column])} else ${expr(column, failure[column])} end`;
    sets.push(`${quoteIdent(column, 'write-back column')} = ${value}`);
    const isNow = (v: WriteBackValue | undefined) => v !== null && typeof v === 'object' && v.from === 'now';
    if (!isNow(success[column]) && !isNow(failure[column])) differs.push(`t.${quoteIdent(column, 'write-back column')} is distinct from ${value}`);
  }
  const key = quoteIdent(keyColumn, 'key column');
  const changedOnly = differs.length ? `(u.written or ${differs.join(' or ')})` : 'u.written';
  const text = `update ${table} t set ${sets.join(', ')}
    from unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::boolean[]) as u(k, ok, target_id, error, written)
    where t.${key} = u.k::${types.get(keyColumn) ?? 'text'} and ${changedOnly}`;
  try {
    await pool.query(text, params);
  } catch (err) {
    throw asConfigurationError(err, `write-back into ${table}`);
  }
}

/** A source filter is a boolean SQL expression over the table's columns; statements, comments and parameters are refused. */
export function checkWhere(where: string, what: string): void {
  if (!where.trim() || /;|--|\/\*|\$\d/.test(where)) {
    throw new ConfigurationError(`${what}: field "where": ${JSON.stringify(where)} is not a plain boolean expression`, "write a condition over the table's columns, e.g. where: 'needs_1c_export and not created_in_1c' (no ;, comments or $n)");
  }
}
