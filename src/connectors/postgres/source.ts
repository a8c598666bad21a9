import type pg from 'pg';
import { ConfigurationError } from '../../core/errors.js';
import type { Cursor, RawRow } from '../../core/types.js';
import { DATABASE_BATCH_SIZE, type FetchRequest, type PartitionPlan, type Source, type SourceCapabilities, type SourcePage, type SourceShape } from '../source.js';
import { requireColumns, tableColumns } from './catalog.js';
import { isKeysetCursor, lagOfKeysetCursor } from '../keyset-cursor.js';
import { asConfigurationError } from './errors.js';
import { quoteIdent, quoteTable } from './identifiers.js';
import { acquirePool, releasePool } from './pool.js';
import { isKeyRange, splitByKey } from './partitions.js';
import { checkWhere, readByKeys, writeBackRows } from './source-links.js';
import type { WriteBackSpec } from '../../links/options.js';
import type { WriteBackRow } from '../source.js';

/**
 * How incremental runs find what changed: keyset on (column, key).
 * - `timestamp`: a change time (timestamptz); the checkpoint tells the lag
 * - `sequence`: a value that only grows (bigserial, a change-log id)
 * - `version`: a row version that grows on every change (also the record's version)
 */
export interface PostgresCursor {
  column: string;
  kind: 'timestamp' | 'sequence' | 'version';
}

export interface PostgresSourceOptions {
  /** connection string of system A */
  url: string;
  /** 'table' or 'schema.table' */
  table: string;
  /** the system the table belongs to, in external keys: 'crm', '1c' (not 'postgres') */
  system: string;
  /** columns to read; default all */
  columns?: readonly string[];
  /** default none: every run is a complete pass, paged by key */
  cursor?: PostgresCursor;
  /**
   * Incremental runs start this far behind the checkpoint, to catch rows
   * committed late with an older cursor value (unchanged ones are skipped):
   * an interval such as '10 minutes' for a timestamp cursor, a number for a
   * sequence or version cursor. Needs a cursor.
   */
  lookBack?: string | number;
  /**
   * Reads only rows matching this boolean SQL expression over the table's
   * columns, e.g. `'needs_1c_export and not created_in_1c'`; checked against
   * the table before a run. Statements, comments and parameters are refused.
   */
  where?: string;
}

const CURSOR_KINDS = ['timestamp', 'sequence', 'version'] as const;

/** Options that are wrong whatever the database holds: refused when the source is declared. */
function checkOptions(o: PostgresSourceOptions): void {
  const what = `postgresSource({ table: ${JSON.stringify(o.table)} })`;
  if (o.cursor !== undefined) {
    if (typeof o.cursor !== 'object' || o.cursor === null || !CURSOR_KINDS.includes(o.cursor.kind)) {
      throw new ConfigurationError(`${what}: field "cursor.kind": must be one of ${CURSOR_KINDS.join(', ')}`, "e.g. cursor: { column: 'updated_at', kind: 'timestamp' }");
    }
    quoteIdent(o.cursor.column, 'source cursor column');
  }
  if (o.where !== undefined) checkWhere(o.where, what);
  if (o.lookBack === undefined) return;
  if (!o.cursor) throw new ConfigurationError(`${what}: field "lookBack": needs a cursor (a snapshot source re-reads everything anyway)`);
  if (o.cursor.kind === 'timestamp' && !(typeof o.lookBack === 'string' && /^\s*\d+(\.\d+)?\s*[a-z]+\s*$/i.test(o.lookBack))) {
    throw new ConfigurationError(`${what}: field "lookBack": a timestamp cursor needs an interval such as '10 minutes'`);
  }
  if (o.cursor.kind !== 'timestamp' && !(typeof o.lookBack === 'number' && Number.isInteger(o.lookBack) && o.lookBack >= 0)) {
    throw new ConfigurationError(`${what}: field "lookBack": a ${o.cursor.kind} cursor needs a whole number`);
  }
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
  readonly capabilities: SourceCapabilities;
  readonly versionField: string | undefined;
  private openPool: pg.Pool | undefined;
  private readonly table: string;
  private columnTypes: Promise<Map<string, string>> | undefined;

  constructor(private readonly options: PostgresSourceOptions) {
    this.system = options.system;
    this.table = quoteTable(options.table, 'source table');
    options.columns?.forEach((c) => quoteIdent(c, 'source column'));
    checkOptions(options);
    const cursor = options.cursor;
    this.capabilities = { incremental: cursor !== undefined, snapshot: true, lookBack: cursor !== undefined, batchSize: DATABASE_BATCH_SIZE };
    this.versionField = cursor?.kind === 'timestamp' || cursor?.kind === 'version' ? cursor.column : undefined;
  }

  lag(checkpoint: Cursor, now: Date): number | null {
    return this.options.cursor?.kind === 'timestamp' ? lagOfKeysetCursor(checkpoint, now) : null;
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
    const nested = shape.key.filter((k) => k.includes('.'));
    if (nested.length) {
      throw new ConfigurationError(
        `stream "${shape.stream}": field "key": a postgres source pages by key columns, and ${nested.map((k) => `"${k}"`).join(', ')} is a nested path`,
        'key the stream by top-level columns of the table',
      );
    }
    const types = await this.types();
    const cursorColumns = this.options.cursor ? [this.options.cursor.column] : [];
    const needed = [...shape.key, ...cursorColumns, ...(this.options.columns ?? [])];
    requireColumns(types, needed, `stream "${shape.stream}": source table ${this.table}`);
    if (this.options.columns) {
      const missing = [...shape.key, ...cursorColumns].filter((c) => !this.options.columns?.includes(c));
      if (missing.length) throw new ConfigurationError(`stream "${shape.stream}": source columns must include key and cursor column ${missing.join(', ')}`);
    }
    if (this.options.where !== undefined) {
      try {
        await this.pool.query(`select 1 from ${this.table} where (${this.options.where}) limit 0`);
      } catch (err) {
        throw new ConfigurationError(`stream "${shape.stream}": source table ${this.table}: field "where": ${(err as Error).message}`, 'the filter must be a boolean expression over the table\'s columns');
      }
    }
  }

  async read(shape: SourceShape, keys: readonly (readonly string[])[]): Promise<RawRow[]> {
    const select = this.options.columns ? this.options.columns.map((c) => quoteIdent(c, 'source column')).join(', ') : '*';
    return readByKeys(this.pool, this.table, await this.types(), shape.key, select, keys);
  }

  async writeBack(shape: SourceShape, spec: WriteBackSpec, rows: readonly WriteBackRow[]): Promise<void> {
    await writeBackRows(this.pool, this.table, await this.types(), shape.key, spec, rows);
  }

  /**
   * Key ranges of about equal size (partitions.ts) for a single-column key,
   * and the checkpoint as of now: the last row in cursor order, read before
   * any range is, so a row changed during the load comes after it.
   */
  async partition(shape: SourceShape, count: number, minRowsEach: number): Promise<PartitionPlan | null> {
    const [keyColumn, ...more] = shape.key;
    if (keyColumn === undefined || more.length > 0) return null;
    const key = quoteIdent(keyColumn, 'source key column');
    const where = this.options.where ?? '';
    const cursorColumn = this.options.cursor?.column;
    let checkpoint: Cursor | null = null;
    try {
      if (cursorColumn) {
        const order = [cursorColumn, keyColumn].map((c) => `${quoteIdent(c, 'column')} desc`).join(', ');
        const { rows } = await this.pool.query<RawRow>(
          `select ${quoteIdent(cursorColumn, 'cursor column')}, ${key} from ${this.table} ${where ? `where (${where})` : ''} order by ${order} limit 1`,
        );
        const last = rows[0];
        if (!last) return null;
        checkpoint = { value: textOf(last[cursorColumn]), key: [textOf(last[keyColumn])] };
      }
      const ranges = await splitByKey({ pool: this.pool, table: this.table, key, where, count, minRowsEach });
      return ranges ? { ranges: ranges.map((r) => ({ ...r })), checkpoint } : null;
    } catch (err) {
      throw asConfigurationError(err, `stream "${shape.stream}": splitting ${this.table} into key ranges`);
    }
  }

  async fetch(request: FetchRequest): Promise<SourcePage> {
    const { shape, limit } = request;
    const types = await this.types();
    const range = request.range;
    if (range !== undefined && !(isKeyRange(range) && shape.key.length === 1)) {
      throw new ConfigurationError(`stream "${shape.stream}": key range ${JSON.stringify(range)} was not made by this postgres source`, 'run the stream again: its first load is split anew');
    }
    // A key range is read in key order: its position is a key, not a checkpoint.
    const cursorColumn = range ? undefined : this.options.cursor?.column;
    const lookBack = this.options.lookBack;
    const orderColumns = cursorColumn ? [cursorColumn, ...shape.key] : [...shape.key];
    const typed = (column: string, param: number) => `$${param}::${types.get(column) ?? 'text'}`;
    const order = orderColumns.map((c) => quoteIdent(c, 'column')).join(', ');
    const select = this.options.columns ? this.options.columns.map((c) => quoteIdent(c, 'source column')).join(', ') : '*';

    const params: unknown[] = [];
    let where = this.options.where !== undefined ? `where (${this.options.where})` : '';
    const and = (condition: string) => (where ? `${where} and ${condition}` : `where ${condition}`);
    const after = request.after;
    if (after !== null && !isKeysetCursor(after)) {
      throw new ConfigurationError(`stream "${shape.stream}": checkpoint ${JSON.stringify(after)} was not written by a postgres source`, `reset it: ferry reset ${shape.stream}`);
    }
    if (after && request.rewind && cursorColumn && after.value !== null && lookBack !== undefined) {
      // Late-committed rows: start the run a window behind the checkpoint; unchanged rows are skipped downstream.
      params.push(after.value, lookBack);
      const column = quoteIdent(cursorColumn, 'cursor column');
      const back = typeof lookBack === 'string' ? '$2::interval' : '$2';
      where = and(`${column} >= ${typed(cursorColumn, 1)} - ${back}`);
    } else if (after) {
      const values = cursorColumn ? [after.value, ...after.key] : after.key;
      if (values.length !== orderColumns.length) {
        throw new ConfigurationError(`stream "${shape.stream}": checkpoint does not match the key/cursor columns`, `reset it: ferry reset ${shape.stream}`);
      }
      params.push(...values);
      where = and(`(${order}) > (${orderColumns.map((c, i) => typed(c, i + params.length - values.length + 1)).join(', ')})`);
    }
    if (range) {
      const key = shape.key[0] as string;
      const column = quoteIdent(key, 'key column');
      if (range.after !== null) {
        params.push(range.after);
        where = and(`${column} > ${typed(key, params.length)}`);
      }
      if (range.upTo !== null) {
        params.push(range.upTo);
        where = and(`${column} <= ${typed(key, params.length)}`);
      }
    }
    // One row past the page tells whether another follows, so a page that is exactly full is not
    // followed by an empty one (a whole batch round trip for nothing).
    params.push(limit + 1);
    const text = `select ${select} from ${this.table} ${where} order by ${order} limit $${params.length}`;

    let rows: RawRow[];
    let more: boolean;
    try {
      rows = (await this.pool.query<RawRow>(text, params)).rows;
      more = rows.length > limit;
      if (more) rows.pop();
    } catch (err) {
      throw asConfigurationError(err, `stream "${shape.stream}": reading ${this.table}`);
    }
    const last = rows.at(-1);
    const next: Cursor | null = last
      ? { value: cursorColumn ? textOf(last[cursorColumn]) : null, key: shape.key.map((k) => textOf(last[k])) }
      : after;
    return { rows, next, done: !more };
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
