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

/** How the target writes a column: the SQL type its text is cast to, and how a JS value becomes that text. */
export interface WriteColumn {
  /** the column's type without its modifier (`numeric`, not `numeric(10,2)`): the insert still applies the modifier, and rejects what does not fit */
  castType: string;
  kind: 'json' | 'array' | 'scalar';
  /** for arrays: whether the elements are json/jsonb */
  jsonElements: boolean;
}

/** Column name -> how to write it, for a target table (domains resolved to their base type). */
export async function writeColumns(pool: pg.Pool, quotedTable: string): Promise<Map<string, WriteColumn>> {
  const { rows } = await pool.query<{ name: string; cast_type: string; base: string; category: string; element: string | null }>(
    `select a.attname as name, format_type(a.atttypid, -1) as cast_type,
            b.typname as base, b.typcategory as category, eb.typname as element
     from pg_attribute a
     join pg_type t on t.oid = a.atttypid
     join pg_type b on b.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
     left join pg_type e on e.oid = b.typelem and b.typcategory = 'A'
     left join pg_type eb on eb.oid = case when e.typtype = 'd' then e.typbasetype else e.oid end
     where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped`,
    [quotedTable],
  );
  const isJson = (name: string | null) => name === 'json' || name === 'jsonb';
  return new Map(
    rows.map((r) => [
      r.name,
      { castType: r.cast_type, kind: isJson(r.base) ? 'json' : r.category === 'A' ? 'array' : 'scalar', jsonElements: isJson(r.element) },
    ]),
  );
}
