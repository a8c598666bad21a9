import type pg from 'pg';
import { ConfigurationError } from '../../core/errors.js';
import type { Cursor, RawRow } from '../../core/types.js';
import type { FetchRequest, Source, SourcePage, SourceShape } from '../source.js';
import { requireColumns, tableColumns } from './catalog.js';
import { asConfigurationError } from './errors.js';
import { quoteIdent, quoteTable } from './identifiers.js';
import { acquirePool, releasePool } from './pool.js';

export interface PostgresSourceOptions {
  /** connection string of system A */
  url: string;
  /** 'table' or 'schema.table' */
  table: string;
  /** system name in external keys; default 'postgres' */
  system?: string;
  /** columns to read; default all */
  columns?: readonly string[];
}

/** Keyset position: the cursor column's value (as text) and the key after which to continue. */
interface KeysetCursor {
  value: string | null;
  key: string[];
}

function isKeysetCursor(c: Cursor | null): c is Cursor & KeysetCursor {
  return typeof c === 'object' && c !== null && !Array.isArray(c) && 'key' in c && Array.isArray(c.key);
}

const textOf = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/**
 * Reads a Postgres table page by page, keyset on (cursor column, key) — never
 * OFFSET, never `>` on the timestamp alone, so equal timestamps straddling a
 * page boundary are all read. Values are compared in the column's own type,
 * so microseconds survive.
 */
class PostgresSource implements Source {
  readonly system: string;
  private openPool: pg.Pool | undefined;
  private readonly table: string;
  private columnTypes: Promise<Map<string, string>> | undefined;

  constructor(private readonly options: PostgresSourceOptions) {
    this.system = options.system ?? 'postgres';
    this.table = quoteTable(options.table, 'source table');
    options.columns?.forEach((c) => quoteIdent(c, 'source column'));
  }

  /** Connected on first use, so a closed stream can be used again (a worker restarted in-process). */
  private get pool(): pg.Pool {
    this.openPool ??= acquirePool(this.options.url);
    return this.openPool;
  }

  private types(): Promise<Map<string, string>> {
    this.columnTypes ??= tableColumns(this.pool, this.table, 'source table').catch((err: unknown) => {
      this.columnTypes = undefined;
      throw err;
    });
    return this.columnTypes;
  }

  async check(shape: SourceShape): Promise<void> {
    const types = await this.types();
    const needed = [...shape.key, ...(shape.cursor.strategy === 'none' ? [] : [shape.cursor.column]), ...(this.options.columns ?? [])];
    requireColumns(types, needed, `stream "${shape.stream}": source table ${this.table}`);
    if (this.options.columns) {
      const missing = [...shape.key, ...(shape.cursor.strategy === 'none' ? [] : [shape.cursor.column])].filter(
        (c) => !this.options.columns?.includes(c),
      );
      if (missing.length) throw new ConfigurationError(`stream "${shape.stream}": source columns must include key and cursor column ${missing.join(', ')}`);
    }
    if (shape.cursor.strategy === 'timestamp' && typeof shape.lookBack === 'number') {
      throw new ConfigurationError(`stream "${shape.stream}": field "lookBack": a timestamp cursor needs an interval such as '10 minutes'`);
    }
    if (shape.cursor.strategy !== 'timestamp' && shape.cursor.strategy !== 'none' && typeof shape.lookBack === 'string') {
      throw new ConfigurationError(`stream "${shape.stream}": field "lookBack": a ${shape.cursor.strategy} cursor needs a number`);
    }
  }

  async fetch(request: FetchRequest): Promise<SourcePage> {
    const { shape, limit } = request;
    const types = await this.types();
    const cursorColumn = shape.cursor.strategy === 'none' ? undefined : shape.cursor.column;
    const orderColumns = cursorColumn ? [cursorColumn, ...shape.key] : [...shape.key];
    const typed = (column: string, param: number) => `$${param}::${types.get(column) ?? 'text'}`;
    const order = orderColumns.map((c) => quoteIdent(c, 'column')).join(', ');
    const select = this.options.columns ? this.options.columns.map((c) => quoteIdent(c, 'source column')).join(', ') : '*';

    const params: unknown[] = [];
    let where = '';
    const after = request.after;
    if (after !== null && !isKeysetCursor(after)) {
      throw new ConfigurationError(`stream "${shape.stream}": checkpoint ${JSON.stringify(after)} was not written by a postgres source`, `reset it: ferry reset ${shape.stream}`);
    }
    if (after && request.rewind && cursorColumn && after.value !== null && shape.lookBack !== undefined) {
      // Late-committed rows: start the run a window behind the checkpoint; unchanged rows are skipped downstream.
      params.push(after.value, shape.lookBack);
      const column = quoteIdent(cursorColumn, 'cursor column');
      const back = typeof shape.lookBack === 'string' ? '$2::interval' : '$2';
      where = `where ${column} >= ${typed(cursorColumn, 1)} - ${back}`;
    } else if (after) {
      const values = cursorColumn ? [after.value, ...after.key] : after.key;
      if (values.length !== orderColumns.length) {
        throw new ConfigurationError(`stream "${shape.stream}": checkpoint does not match the key/cursor columns`, `reset it: ferry reset ${shape.stream}`);
      }
      params.push(...values);
      where = `where (${order}) > (${orderColumns.map((c, i) => typed(c, i + 1)).join(', ')})`;
    }
    params.push(limit);
    const text = `select ${select} from ${this.table} ${where} order by ${order} limit $${params.length}`;

    let rows: RawRow[];
    try {
      rows = (await this.pool.query<RawRow>(text, params)).rows;
    } catch (err) {
      throw asConfigurationError(err, `stream "${shape.stream}": reading ${this.table}`);
    }
    const last = rows.at(-1);
    const next: Cursor | null = last
      ? { value: cursorColumn ? textOf(last[cursorColumn]) : null, key: shape.key.map((k) => textOf(last[k])) }
      : after;
    return { rows, next, done: rows.length < limit };
  }

  async close(): Promise<void> {
    if (!this.openPool) return;
    this.openPool = undefined;
    this.columnTypes = undefined;
    await releasePool(this.options.url);
  }
}

export function postgresSource(options: PostgresSourceOptions): Source {
  return new PostgresSource(options);
}
