import { ConfigurationError, errorMessage } from '../../core/errors.js';
import { durationToMs } from '../../core/duration.js';
import type { Cursor, RawRow } from '../../core/types.js';
import { isKeysetCursor, lagOfKeysetCursor } from '../keyset-cursor.js';
import { DATABASE_BATCH_SIZE, type FetchRequest, type Source, type SourceCapabilities, type SourcePage, type SourceShape } from '../source.js';
import { requireColumns, tableColumns, typedParam, type MysqlColumn } from './catalog.js';
import { asConnectorError, isRowLevelError } from './errors.js';
import { quoteIdent, tableName } from './identifiers.js';
import { acquireDb, query, releaseDb, type MysqlDb } from './pool.js';
import { readRow } from './values.js';

/**
 * How incremental runs find what changed: keyset on (column, key).
 * - `timestamp`: a change time (DATETIME(6)/TIMESTAMP(6), read in UTC); the checkpoint tells the lag
 * - `sequence`: a value that only grows (AUTO_INCREMENT, a change-log id)
 * - `version`: a row version that grows on every change (also the record's version)
 */
export interface MysqlCursor {
  column: string;
  kind: 'timestamp' | 'sequence' | 'version';
}

export interface MysqlSourceOptions {
  /** connection URL of system A: mysql://user:password@host:3306/database (MySQL 8 or MariaDB 10.6+) */
  url: string;
  /** 'table' or 'database.table' */
  table: string;
  /** the system the table belongs to, in external keys: 'erp', 'shop' (not 'mysql') */
  system: string;
  /** columns to read; default all */
  columns?: readonly string[];
  /** default none: every run is a complete pass, paged by key */
  cursor?: MysqlCursor;
  /**
   * Incremental runs start this far behind the checkpoint, to catch rows
   * committed late with an older cursor value (unchanged ones are skipped):
   * a duration such as '10 minutes' for a timestamp cursor, a number for a
   * sequence or version cursor. Needs a cursor.
   */
  lookBack?: string | number;
}

const CURSOR_KINDS = ['timestamp', 'sequence', 'version'] as const;

/** Options that are wrong whatever the database holds: refused when the source is declared. */
function checkOptions(o: MysqlSourceOptions): void {
  const what = `mysqlSource({ table: ${JSON.stringify(o.table)} })`;
  if (typeof o.system !== 'string' || o.system === '') throw new ConfigurationError(`${what}: field "system" is required`, "name the system the table belongs to, e.g. system: 'erp'");
  if (o.cursor !== undefined) {
    if (typeof o.cursor !== 'object' || o.cursor === null || !CURSOR_KINDS.includes(o.cursor.kind)) {
      throw new ConfigurationError(`${what}: field "cursor.kind": must be one of ${CURSOR_KINDS.join(', ')}`, "e.g. cursor: { column: 'updated_at', kind: 'timestamp' }");
    }
    quoteIdent(o.cursor.column, 'source cursor column');
  }
  if (o.lookBack === undefined) return;
  if (!o.cursor) throw new ConfigurationError(`${what}: field "lookBack": needs a cursor (a snapshot source re-reads everything anyway)`);
  if (o.cursor.kind === 'timestamp' && !(typeof o.lookBack === 'string' && durationToMs(o.lookBack) !== undefined)) {
    throw new ConfigurationError(`${what}: field "lookBack": a timestamp cursor needs a duration such as '10 minutes'`);
  }
  if (o.cursor.kind !== 'timestamp' && !(typeof o.lookBack === 'number' && Number.isInteger(o.lookBack) && o.lookBack >= 0)) {
    throw new ConfigurationError(`${what}: field "lookBack": a ${o.cursor.kind} cursor needs a whole number`);
  }
}

/** `(c1, c2, …) > (?, ?, …)` spelled out, so every server uses the (cursor, key) index for it. */
function after(columns: readonly { quoted: string; param: string }[]): string {
  const [first, ...rest] = columns;
  if (!first) return 'true';
  if (rest.length === 0) return `${first.quoted} > ${first.param}`;
  return `(${first.quoted} > ${first.param} or (${first.quoted} = ${first.param} and ${after(rest)}))`;
}

/**
 * Reads a MySQL/MariaDB table page by page, keyset on (cursor column, key) —
 * never OFFSET, never `>` on the timestamp alone, so equal timestamps
 * straddling a page boundary are all read. Checkpoint values are the server's
 * text, compared as the column's own type, so microseconds and BIGINT
 * extremes survive. Same checkpoint shape as the Postgres source.
 */
class MysqlSource implements Source {
  readonly system: string;
  readonly capabilities: SourceCapabilities;
  readonly versionField: string | undefined;
  private openDb: MysqlDb | undefined;
  private readonly table: ReturnType<typeof tableName>;
  private columnInfo: Promise<Map<string, MysqlColumn>> | undefined;

  constructor(private readonly options: MysqlSourceOptions) {
    checkOptions(options);
    this.system = options.system;
    this.table = tableName(options.table, 'source table');
    options.columns?.forEach((c) => quoteIdent(c, 'source column'));
    const cursor = options.cursor;
    this.capabilities = { incremental: cursor !== undefined, snapshot: true, lookBack: cursor !== undefined, batchSize: DATABASE_BATCH_SIZE };
    this.versionField = cursor?.kind === 'timestamp' || cursor?.kind === 'version' ? cursor.column : undefined;
  }

  lag(checkpoint: Cursor, now: Date): number | null {
    return this.options.cursor?.kind === 'timestamp' ? lagOfKeysetCursor(checkpoint, now) : null;
  }

  /** Connected on first use, so a closed stream can be used again (a worker restarted in-process). */
  private get db(): MysqlDb {
    this.openDb ??= acquireDb(this.options.url);
    return this.openDb;
  }

  private columns(): Promise<Map<string, MysqlColumn>> {
    this.columnInfo ??= tableColumns(this.db, this.table, 'source table').catch((err: unknown) => {
      this.columnInfo = undefined;
      throw err;
    });
    return this.columnInfo;
  }

  async check(shape: SourceShape): Promise<void> {
    const nested = shape.key.filter((k) => k.includes('.'));
    if (nested.length) {
      throw new ConfigurationError(
        `stream "${shape.stream}": field "key": a mysql source pages by key columns, and ${nested.map((k) => `"${k}"`).join(', ')} is a nested path`,
        'key the stream by top-level columns of the table',
      );
    }
    const columns = await this.columns();
    const cursorColumns = this.options.cursor ? [this.options.cursor.column] : [];
    const what = `stream "${shape.stream}": source table ${this.table.quoted}`;
    requireColumns(columns, [...shape.key, ...cursorColumns, ...(this.options.columns ?? [])], what);
    const unorderable = [...shape.key, ...cursorColumns].filter((c) => ['json', 'binary'].includes(columns.get(c)?.kind ?? ''));
    if (unorderable.length) throw new ConfigurationError(`${what}: key and cursor columns cannot be JSON or binary: ${unorderable.join(', ')}`);
    if (this.options.columns) {
      const missing = [...shape.key, ...cursorColumns].filter((c) => !this.options.columns?.includes(c));
      if (missing.length) throw new ConfigurationError(`${what}: source columns must include key and cursor column ${missing.join(', ')}`);
    }
  }

  async fetch(request: FetchRequest): Promise<SourcePage> {
    const { shape, limit } = request;
    const columns = await this.columns();
    const column = (name: string) => {
      const c = columns.get(name);
      if (!c) throw new ConfigurationError(`stream "${shape.stream}": source table ${this.table.quoted} has no column \`${name}\``);
      return c;
    };
    const cursorColumn = this.options.cursor?.column;
    const lookBack = this.options.lookBack;
    const orderColumns = cursorColumn ? [cursorColumn, ...shape.key] : [...shape.key];
    const order = orderColumns.map((c) => quoteIdent(c, 'column')).join(', ');
    const select = this.options.columns ? this.options.columns.map((c) => quoteIdent(c, 'source column')).join(', ') : '*';

    const start = request.after;
    if (start !== null && !isKeysetCursor(start)) {
      throw new ConfigurationError(`stream "${shape.stream}": checkpoint ${JSON.stringify(start)} was not written by a mysql source`, `reset it: ferry reset ${shape.stream}`);
    }
    const params: unknown[] = [];
    let where = '';
    if (start && request.rewind && cursorColumn && start.value !== null && lookBack !== undefined) {
      // Late-committed rows: start the run a window behind the checkpoint; unchanged rows are skipped downstream.
      const c = column(cursorColumn);
      if (typeof lookBack === 'string') {
        where = `where ${quoteIdent(cursorColumn, 'cursor column')} >= ${typedParam(c)} - interval ? microsecond`;
        params.push(start.value, (durationToMs(lookBack) ?? 0) * 1000);
      } else {
        where = `where ${quoteIdent(cursorColumn, 'cursor column')} >= ${typedParam(c)} - ?`;
        params.push(start.value, lookBack);
      }
    } else if (start) {
      const values = cursorColumn ? [start.value, ...start.key] : start.key;
      if (values.length !== orderColumns.length) {
        throw new ConfigurationError(`stream "${shape.stream}": checkpoint does not match the key/cursor columns`, `reset it: ferry reset ${shape.stream}`);
      }
      where = `where ${after(orderColumns.map((c) => ({ quoted: quoteIdent(c, 'column'), param: typedParam(column(c)) })))}`;
      // each value appears twice in the spelled-out comparison except the last: (a > ? or (a = ? and b > ?))
      values.forEach((v, i) => params.push(...(i < values.length - 1 ? [v, v] : [v])));
    }
    // One row past the page tells whether another follows (no empty page after an exactly full one).
    const text = `select ${select} from ${this.table.quoted} ${where} order by ${order} limit ${Math.max(0, Math.floor(limit)) + 1}`;

    let rows: RawRow[];
    try {
      rows = await query<RawRow>(this.db, text, params);
    } catch (err) {
      if (start && isRowLevelError(err)) {
        throw new ConfigurationError(`stream "${shape.stream}": reading ${this.table.quoted}: the checkpoint does not fit the key/cursor columns: ${errorMessage(err)}`, `reset it: ferry reset ${shape.stream}`);
      }
      throw asConnectorError(err, `stream "${shape.stream}": reading ${this.table.quoted}`);
    }
    const more = rows.length > limit;
    if (more) rows.pop();
    const json = [...columns.values()].filter((c) => c.kind === 'json').map((c) => c.name);
    const last = rows.at(-1);
    // The cursor values as the server printed them (before JSON parsing, which never touches key/cursor columns).
    const next: Cursor | null = last ? { value: cursorColumn ? String(last[cursorColumn]) : null, key: shape.key.map((k) => String(last[k])) } : start;
    return { rows: rows.map((r) => readRow(r, json)), next, done: !more };
  }

  async close(): Promise<void> {
    if (!this.openDb) return;
    this.openDb = undefined;
    this.columnInfo = undefined;
    await releaseDb(this.options.url);
  }
}

export function mysqlSource(options: MysqlSourceOptions): Source {
  return new MysqlSource(options);
}
