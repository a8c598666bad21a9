import type pg from 'pg';
import { ConfigurationError } from '../../core/errors.js';
import { asConfigurationError } from './errors.js';

/** Column name -> SQL type (as format_type prints it) of a table. Throws ConfigurationError if it does not exist. */
export async function tableColumns(pool: pg.Pool, quotedTable: string, what: string): Promise<Map<string, string>> {
  try {
    const { rows } = await pool.query<{ name: string; type: string }>(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
       order by a.attnum`,
      [quotedTable],
    );
    return new Map(rows.map((r) => [r.name, r.type]));
  } catch (err) {
    throw asConfigurationError(err, `${what} ${quotedTable}`);
  }
}

export function requireColumns(columns: Map<string, string>, names: readonly string[], what: string): void {
  const missing = names.filter((n) => !columns.has(n));
  if (missing.length > 0) {
    throw new ConfigurationError(`${what} has no column ${missing.map((m) => `"${m}"`).join(', ')}`, `it has: ${[...columns.keys()].join(', ')}`);
  }
}

/** The columns a named constraint of the table covers (a check may cover none); [] if it cannot tell. */
export async function constraintColumns(pool: pg.Pool, quotedTable: string, constraint: string): Promise<string[]> {
  try {
    const { rows } = await pool.query<{ name: string }>(
      `select a.attname as name from pg_constraint c
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
       where c.conrelid = $1::regclass and c.conname = $2
       order by a.attnum`,
      [quotedTable, constraint],
    );
    return rows.map((r) => r.name);
  } catch {
    return [];
  }
}
