import type pg from 'pg';
import { quoteIdent } from './identifiers.js';

/** A column the batch writes: its name and the type its text is cast to. */
export interface MergeField {
  name: string;
  castType: string;
}

export interface MergeShape {
  /** the target table, quoted */
  table: string;
  key: readonly string[];
  idColumn: string;
  softDelete: string | undefined;
  fields: readonly MergeField[];
}

export interface MergeStatements {
  /** the connection's temporary table the batch is copied into: `__ferry_ord int, v0 text, … v<n-1> text` */
  writeTable: string;
  /** upserts the copied rows with `ord` between $1 and $2; returns `ord, id` (ord: the row's index) of each row it inserted or changed */
  upsert: string;
  /** as `upsert`, for rows new to B: a plain insert, without the conflict check; fails on a key B already has */
  insert: string;
  /** `ord, id` of the copied rows whose `ord` is in $1 (int[]), read from the target */
  existingIds: string;
}

const writeTableName = (width: number) => `ferry_write_${width}`;

/**
 * The statements that write one batch from the connection's write table.
 * Column types come from the catalog (format_type), never from configuration.
 *
 * An update whose values B already holds, byte for byte (record_image_ne:
 * 1.0 and 1.00 differ, as do -0 and 0), is skipped: no new row version, no
 * WAL, no dead tuple left for a vacuum that may never run. Its id is then
 * not returned by the upsert and is read by `existingIds`.
 */
export function mergeStatements(shape: MergeShape): MergeStatements {
  const writeTable = writeTableName(shape.fields.length);
  const names = shape.fields.map((f) => f.name);
  const cols = names.map((f) => quoteIdent(f, `target ${shape.table} field`));
  const keyCols = shape.key.map((k) => quoteIdent(k, 'target key column'));
  const id = quoteIdent(shape.idColumn, 'target id column');
  const soft = shape.softDelete !== undefined ? quoteIdent(shape.softDelete, 'soft-delete column') : undefined;

  const updated = names.filter((f) => !shape.key.includes(f)).map((f) => quoteIdent(f, 'field'));
  const sets = updated.map((c) => `${c} = excluded.${c}`);
  const changes = updated.length > 0 ? [`record_image_ne(row(${updated.map((c) => `t.${c}`).join(', ')}), row(${updated.map((c) => `excluded.${c}`).join(', ')}))`] : [];
  if (soft && !names.includes(shape.softDelete ?? '')) {
    sets.push(`${soft} = null`);
    changes.push(`t.${soft} is not null`);
  }
  // Only key columns: nothing to update, but the conflict row must still be locked and returned.
  if (sets.length === 0) sets.push(`${keyCols[0]} = excluded.${keyCols[0]}`);
  const onlyChanged = changes.length > 0 ? `where ${changes.join(' or ')}` : '';

  const typed = shape.fields.map((f, n) => `w.v${n}::${f.castType} as ${cols[n]}`);
  const write = (conflict: string) => `with i as (
      select w.__ferry_ord, ${typed.join(', ')} from ${writeTable} w where w.__ferry_ord between $1 and $2
    ), u as (
      insert into ${shape.table} as t (${cols.join(', ')}) select ${cols.join(', ')} from i ${conflict}
      returning ${keyCols.map((k) => `t.${k}`).join(', ')}, t.${id} as __ferry_id
    )
    select i.__ferry_ord as ord, u.__ferry_id::text as id from u join i on ${keyCols.map((k) => `u.${k} = i.${k}`).join(' and ')}`;
  const upsert = write(`on conflict (${keyCols.join(', ')}) do update set ${sets.join(', ')} ${onlyChanged}`);
  const insert = write('');

  const keyMatch = shape.key.map((k) => {
    const n = names.indexOf(k);
    return `t.${quoteIdent(k, 'target key column')} = w.v${n}::${(shape.fields[n] as MergeField).castType}`;
  });
  // One index lookup per row (a correlated subquery), whatever the planner thinks of an unanalysed temporary table.
  const existingIds = `select w.__ferry_ord as ord, (select t.${id}::text from ${shape.table} t where ${keyMatch.join(' and ')}) as id
    from ${writeTable} w where w.__ferry_ord = any($1::int[])`;
  return { writeTable, upsert, insert, existingIds };
}

/** Which write tables each connection already has (a temporary table lives as long as its connection). */
const writeTables = new WeakMap<pg.PoolClient, Set<number>>();

/**
 * Creates the connection's write table for rows of `width` fields, once per
 * connection. ON COMMIT DELETE ROWS empties it at the end of each batch's
 * transaction, in place (no new file, no catalog row), so it never grows and
 * needs no vacuum.
 */
export async function ensureWriteTable(client: pg.PoolClient, width: number): Promise<void> {
  let known = writeTables.get(client);
  if (!known) writeTables.set(client, (known = new Set()));
  if (known.has(width)) return;
  const values = Array.from({ length: width }, (_, n) => `v${n} text`);
  await client.query(`create temporary table if not exists ${writeTableName(width)} (__ferry_ord int not null, ${values.join(', ')}) on commit delete rows`);
  known.add(width);
}
