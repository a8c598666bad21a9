import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../../core/errors.js';
import type { DeleteRow, Target, TargetCapabilities, TargetRejection, TargetRow, UpsertResult } from '../target.js';
import { constraintColumns, requireColumns, tableColumns, writeColumns, type WriteColumn } from './catalog.js';
import { asConfigurationError, isRowLevelError } from './errors.js';
import { quoteIdent, quoteTable } from './identifiers.js';
import { acquirePool, releasePool } from './pool.js';
import { columnText } from './write-values.js';

export interface PostgresTargetOptions {
  /** connection string of system B */
  url: string;
  /** 'table' or 'schema.table' */
  table: string;
  /** the target's unique key columns (the ON CONFLICT target); projections must carry them */
  key: string | readonly string[];
  /** column whose value is B's internal id, stored in the binding; default: the (first) key column */
  idColumn?: string;
  /** delete by setting this timestamp column instead of removing the row; an upsert clears it again */
  softDelete?: { column: string };
  /** the system the table belongs to: 'app', '1c' (not 'postgres') */
  system: string;
}

/**
 * Upserts a whole batch in one statement: the rows travel as one JSON array
 * whose values are all Postgres text (write-values.ts), are read as text
 * columns (json_to_recordset), cast to each column's type in SQL, and written
 * with INSERT … ON CONFLICT DO UPDATE. A row the database refuses for its
 * content (class 22/23) is isolated by bisection and reported, not thrown.
 */
class PostgresTarget implements Target {
  readonly system: string;
  readonly capabilities: TargetCapabilities;
  private openPool: pg.Pool | undefined;
  private readonly table: string;
  private readonly key: readonly string[];
  private readonly idColumn: string;
  private columnTypes: Promise<Map<string, string>> | undefined;
  private columnWrites: Promise<Map<string, WriteColumn>> | undefined;

  constructor(private readonly options: PostgresTargetOptions) {
    this.system = options.system;
    this.capabilities = { delete: options.softDelete ? 'soft' : 'hard', returnsIds: true, idempotent: true };
    this.table = quoteTable(options.table, 'target table');
    this.key = typeof options.key === 'string' ? [options.key] : options.key;
    if (this.key.length === 0) throw new ConfigurationError(`target ${options.table}: key needs at least one column`);
    this.key.forEach((k) => quoteIdent(k, 'target key column'));
    this.idColumn = options.idColumn ?? (this.key[0] as string);
    quoteIdent(this.idColumn, 'target id column');
    if (options.softDelete) quoteIdent(options.softDelete.column, 'target soft-delete column');
  }

  /** Connected on first use, so a closed stream can be used again (a worker restarted in-process). */
  private get pool(): pg.Pool {
    this.openPool ??= acquirePool(this.options.url);
    return this.openPool;
  }

  private types(): Promise<Map<string, string>> {
    this.columnTypes ??= tableColumns(this.pool, this.table, 'target table').catch((err: unknown) => {
      this.columnTypes = undefined;
      throw err;
    });
    return this.columnTypes;
  }

  private writes(): Promise<Map<string, WriteColumn>> {
    this.columnWrites ??= writeColumns(this.pool, this.table).catch((err: unknown) => {
      this.columnWrites = undefined;
      throw asConfigurationError(err, `target table ${this.table}`);
    });
    return this.columnWrites;
  }

  async check(): Promise<void> {
    const types = await this.types();
    const needed = [...this.key, this.idColumn, ...(this.options.softDelete ? [this.options.softDelete.column] : [])];
    requireColumns(types, needed, `target table ${this.table}`);
  }

  async upsert(rows: readonly TargetRow[]): Promise<UpsertResult> {
    const ids: (string | null)[] = new Array<string | null>(rows.length).fill(null);
    const rejected: TargetRejection[] = [];
    if (rows.length === 0) return { ids, rejected };

    const fields = new Set<string>();
    for (const row of rows) for (const f of Object.keys(row.projection.fields)) fields.add(f);
    const missingKey = this.key.filter((k) => !fields.has(k));
    if (missingKey.length) {
      throw new ConfigurationError(`target ${this.table}: projections lack key field ${missingKey.join(', ')}`, 'the stream map must set every target key column');
    }
    const columns = await this.writes();
    const unknown = [...fields].filter((f) => !columns.has(f));
    if (unknown.length) {
      throw new ConfigurationError(
        `target ${this.table}: projections have field ${unknown.map((f) => `"${f}"`).join(', ')}, which the table has no column for`,
        `the stream map must only set columns of ${this.table}: ${[...columns.keys()].join(', ')}`,
      );
    }
    const writes = [...fields].map((name) => ({ name, ...(columns.get(name) as WriteColumn) }));
    const statement = this.statement(writes);
    // Each row as { v<n>: Postgres text of field n }; a field a projection lacks is NULL.
    const keys = writes.map((_, n) => `v${n}`);
    const texts = rows.map(({ projection: { fields: values } }) => {
      const row: Record<string, string | null> = {};
      for (let n = 0; n < writes.length; n += 1) {
        const column = writes[n] as (typeof writes)[number];
        row[keys[n] as string] = columnText(values[column.name], column);
      }
      return row;
    });

    const write = async (offset: number, count: number): Promise<void> => {
      const params = [JSON.stringify(texts.slice(offset, offset + count))];
      try {
        const { rows: written } = await this.pool.query<{ ord: number; id: string }>(statement, params);
        for (const w of written) ids[offset + w.ord - 1] = w.id;
      } catch (err) {
        if (!isRowLevelError(err)) throw asConfigurationError(err, `writing ${this.table}`);
        if (count === 1) {
          rejected.push({ index: offset, ...(await this.rejection(err)) });
          return;
        }
        const half = Math.ceil(count / 2);
        await write(offset, half);
        await write(offset + half, count - half);
      }
    };
    await write(0, rows.length);
    return { ids, rejected };
  }

  /** Why B refused one row, naming the columns at fault when Postgres says which (a check constraint names only itself). */
  private async rejection(err: unknown): Promise<Omit<TargetRejection, 'index'>> {
    const { column, constraint } = err as { column?: unknown; constraint?: unknown };
    const fields =
      typeof column === 'string' ? [column] : typeof constraint === 'string' ? await constraintColumns(this.pool, this.table, constraint) : [];
    const message = errorMessage(err);
    const prefix = fields.map((f) => `field "${f}": `).join('');
    return { message: `target ${this.table}: ${prefix}${message}`, issues: fields.map((path) => ({ path, message })) };
  }

  private statement(fields: readonly { name: string; castType: string }[]): string {
    const names = fields.map((f) => f.name);
    const cols = names.map((f) => quoteIdent(f, `target ${this.table} field`));
    const keyCols = this.key.map((k) => quoteIdent(k, 'target key column'));
    const id = quoteIdent(this.idColumn, 'target id column');
    const soft = this.options.softDelete ? quoteIdent(this.options.softDelete.column, 'soft-delete column') : undefined;
    const updates = names.filter((f) => !this.key.includes(f)).map((f) => `${quoteIdent(f, 'field')} = excluded.${quoteIdent(f, 'field')}`);
    if (soft && !names.includes(this.options.softDelete?.column ?? '')) updates.push(`${soft} = null`);
    if (updates.length === 0) updates.push(`${keyCols[0]} = excluded.${keyCols[0]}`);
    const joinOn = keyCols.map((k) => `w.${k} = i.${k}`).join(' and ');
    // castType comes from the catalog (format_type), not from configuration.
    const typed = fields.map((f, n) => `u.v${n}::${f.castType} as ${cols[n]}`);
    const aliases = fields.map((_, n) => `v${n}`);
    return `with i as (
        select u.__ferry_ord, ${typed.join(', ')}
        from rows from (json_to_recordset($1::json) as (${aliases.map((a) => `${a} text`).join(', ')}))
          with ordinality as u(${aliases.join(', ')}, __ferry_ord)
      ), w as (
        insert into ${this.table} (${cols.join(', ')}) select ${cols.join(', ')} from i
        on conflict (${keyCols.join(', ')}) do update set ${updates.join(', ')}
        returning ${keyCols.join(', ')}, ${id} as __ferry_id
      )
      select i.__ferry_ord::int as ord, w.__ferry_id::text as id from w join i on ${joinOn}`;
  }

  /** By internal id (the id column): a record never written here has none, and nothing to delete. */
  async delete(rows: readonly DeleteRow[]): Promise<number> {
    const internalIds = rows.flatMap((r) => (r.internalId === null ? [] : [r.internalId]));
    if (internalIds.length === 0) return 0;
    const types = await this.types();
    const id = quoteIdent(this.idColumn, 'target id column');
    const idType = types.get(this.idColumn) ?? 'text';
    const text = this.options.softDelete
      ? `update ${this.table} set ${quoteIdent(this.options.softDelete.column, 'soft-delete column')} = now() where ${id} = any($1::${idType}[]) and ${quoteIdent(this.options.softDelete.column, 'soft-delete column')} is null`
      : `delete from ${this.table} where ${id} = any($1::${idType}[])`;
    try {
      return (await this.pool.query(text, [internalIds])).rowCount ?? 0;
    } catch (err) {
      throw asConfigurationError(err, `deleting from ${this.table}`);
    }
  }

  async close(): Promise<void> {
    if (!this.openPool) return;
    this.openPool = undefined;
    this.columnTypes = undefined;
    this.columnWrites = undefined;
    await releasePool(this.options.url);
  }
}

export function postgresTarget(options: PostgresTargetOptions): Target {
  return new PostgresTarget(options);
}
