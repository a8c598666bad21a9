import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../../core/errors.js';
import type { DeleteRow, Target, TargetCapabilities, TargetRejection, TargetRow, UpsertResult } from '../target.js';
import { constraintColumns, requireColumns, tableColumns, writeColumns, type WriteColumn } from './catalog.js';
import { copyField, copyLines } from './copy-text.js';
import { insertTextRows, takesCopyFromStdin, type TextRow } from './insert-text.js';
import { asConfigurationError, isRowLevelError, sqlState } from './errors.js';
import { quoteIdent, quoteTable } from './identifiers.js';
import { ensureWriteTable, mergeStatements } from './merge-statement.js';
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
 * Upserts a whole batch with COPY and one merge statement: the rows' values,
 * all Postgres text (write-values.ts), are copied into a temporary table of
 * text columns kept by the connection, cast to each column's type in SQL and
 * written with INSERT … ON CONFLICT DO UPDATE (merge-statement.ts). A row
 * whose values B already holds is not rewritten. A row the database refuses
 * for its content (class 22/23) is isolated by bisection over the copied rows
 * and reported, not thrown.
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
  private copyFromStdin: Promise<boolean> | undefined;

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

  private takesCopy(): Promise<boolean> {
    this.copyFromStdin ??= takesCopyFromStdin(this.pool).catch((err: unknown) => {
      this.copyFromStdin = undefined;
      throw asConfigurationError(err, `target table ${this.table}`);
    });
    return this.copyFromStdin;
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
    const statements = mergeStatements({ table: this.table, key: this.key, idColumn: this.idColumn, softDelete: this.options.softDelete?.column, fields: writes });

    // Per row: its index, then the Postgres text of each field (a field a projection lacks is NULL).
    const copy = await this.takesCopy();
    const lines: string[] = [];
    const textRows: TextRow[] = [];
    rows.forEach(({ projection: { fields: values } }, index) => {
      let line = String(index);
      const texts: (string | null)[] = [];
      for (const column of writes) {
        const text = columnText(values[column.name], column);
        if (text !== null && text.includes('\0')) {
          const message = 'invalid byte sequence for encoding "UTF8": 0x00 (Postgres text cannot hold a NUL character)';
          rejected.push({ index, message: `target ${this.table}: field "${column.name}": ${message}`, issues: [{ path: column.name, message }] });
          return;
        }
        if (copy) line += `\t${copyField(text)}`;
        else texts.push(text);
      }
      if (copy) lines.push(`${line}\n`);
      else textRows.push({ index, values: texts });
    });

    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await ensureWriteTable(client, writes.length);
      await client.query('begin');
      if (copy) await copyLines(client, `copy ${statements.writeTable} from stdin`, lines);
      else await insertTextRows(client, statements.writeTable, writes.length, textRows);
      const written = new Set<number>();
      const write = async (first: number, last: number): Promise<void> => {
        await client.query('savepoint ferry_write');
        try {
          const { rows: out } = await client.query<{ ord: number; id: string }>(statements.upsert, [first, last]);
          for (const w of out) {
            ids[w.ord] = w.id;
            written.add(w.ord);
          }
          await client.query('release savepoint ferry_write');
        } catch (err) {
          if (!isRowLevelError(err)) throw asConfigurationError(err, `writing ${this.table}`);
          await client.query('rollback to savepoint ferry_write');
          if (first === last) {
            rejected.push({ index: first, ...(await this.rejection(err)) });
            return;
          }
          const middle = first + Math.floor((last - first) / 2);
          await write(first, middle);
          await write(middle + 1, last);
        }
      };
      // Rows that have no binding are most likely new to B (a first load): a plain insert skips the
      // conflict check of each row. A key B has after all (bindings reset, a retried batch) sends
      // the batch through the upsert, as does a row B refuses.
      const creates = rows.every((r) => r.op === 'create');
      if (!creates || !(await this.tryInsert(client, statements.insert, rows.length, ids, written))) await write(0, rows.length - 1);
      // Rows B already held as they are were not rewritten, so the upsert did not return their ids.
      const refused = new Set(rejected.map((r) => r.index));
      const unchanged = rows.flatMap((_, i) => (written.has(i) || refused.has(i) ? [] : [i]));
      if (unchanged.length > 0) {
        const { rows: found } = await client.query<{ ord: number; id: string | null }>(statements.existingIds, [unchanged]);
        for (const f of found) ids[f.ord] = f.id;
      }
      await client.query('commit');
    } catch (err) {
      broken = err;
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      // A client whose connection failed is discarded, not handed to the next caller.
      client.release(broken !== undefined && sqlState(broken) === undefined ? (broken instanceof Error ? broken : new Error(String(broken))) : undefined);
    }
    rejected.sort((a, b) => a.index - b.index);
    return { ids, rejected };
  }

  /** Inserts all copied rows in one statement; false, with nothing written, if B refused any. */
  private async tryInsert(client: pg.PoolClient, insert: string, count: number, ids: (string | null)[], written: Set<number>): Promise<boolean> {
    await client.query('savepoint ferry_insert');
    try {
      const { rows: out } = await client.query<{ ord: number; id: string }>(insert, [0, count - 1]);
      await client.query('release savepoint ferry_insert');
      for (const w of out) {
        ids[w.ord] = w.id;
        written.add(w.ord);
      }
      return true;
    } catch (err) {
      if (!isRowLevelError(err)) throw asConfigurationError(err, `writing ${this.table}`);
      await client.query('rollback to savepoint ferry_insert');
      return false;
    }
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
    this.copyFromStdin = undefined;
    await releasePool(this.options.url);
  }
}

export function postgresTarget(options: PostgresTargetOptions): Target {
  return new PostgresTarget(options);
}
