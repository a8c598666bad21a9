import { ConfigurationError } from '../../core/errors.js';
import { asConnectorError } from './errors.js';
import { query, type MysqlDb } from './pool.js';

/** How the connector reads and writes a column. */
export type ColumnKind = 'json' | 'binary' | 'datetime' | 'other';

export interface MysqlColumn {
  name: string;
  /** information_schema DATA_TYPE: 'bigint', 'datetime', 'longtext', … */
  dataType: string;
  /** information_schema COLUMN_TYPE: 'bigint(20) unsigned', 'decimal(30,10)', 'datetime(6)', … */
  columnType: string;
  kind: ColumnKind;
}

const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit']);
const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/**
 * Columns of a table, in order. A JSON column is DATA_TYPE 'json' on MySQL
 * and a LONGTEXT with a `json_valid(col)` check on MariaDB. Throws
 * ConfigurationError when the table does not exist.
 */
export async function tableColumns(db: MysqlDb, table: { schema: string | undefined; table: string; quoted: string }, what: string): Promise<Map<string, MysqlColumn>> {
  const schema = table.schema ?? null;
  let rows: { name: string; dataType: string; columnType: string; jsonCheck: number | string | null }[];
  try {
    rows = await query(
      db,
      `select c.COLUMN_NAME as name, c.DATA_TYPE as dataType, c.COLUMN_TYPE as columnType,
         (select count(*) from information_schema.CHECK_CONSTRAINTS k
           where k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA and k.TABLE_NAME = c.TABLE_NAME
             and replace(lower(k.CHECK_CLAUSE), ' ', '') = concat('json_valid(\`', lower(c.COLUMN_NAME), '\`)')) as jsonCheck
       from information_schema.COLUMNS c
       where c.TABLE_SCHEMA = coalesce(?, database()) and c.TABLE_NAME = ?
       order by c.ORDINAL_POSITION`,
      [schema, table.table],
    );
  } catch (err) {
    throw asConnectorError(err, `${what} ${table.quoted}`);
  }
  if (rows.length === 0) throw new ConfigurationError(`${what} ${table.quoted} does not exist`, 'check the table name (and the database in the connection URL)');
  return new Map(
    rows.map((r) => {
      const dataType = r.dataType.toLowerCase();
      const kind: ColumnKind =
        dataType === 'json' || Number(r.jsonCheck) > 0 ? 'json' : BINARY.has(dataType) ? 'binary' : dataType === 'datetime' || dataType === 'timestamp' ? 'datetime' : 'other';
      return [r.name, { name: r.name, dataType, columnType: r.columnType.toLowerCase(), kind }];
    }),
  );
}

export function requireColumns(columns: Map<string, MysqlColumn>, names: readonly string[], what: string): void {
  const missing = names.filter((n) => !columns.has(n));
  if (missing.length > 0) {
    throw new ConfigurationError(`${what} has no column ${missing.map((m) => `\`${m}\``).join(', ')}`, `it has: ${[...columns.keys()].join(', ')}`);
  }
}

/**
 * A `?` parameter typed as the column, for comparisons with it: a BIGINT
 * compared with a string is compared as a double in MySQL (9223372036854775806
 * would equal …807), a DATETIME(6) with a string keeps its microseconds only
 * when the string is read as one. `expr` wraps a value expression instead of `?`.
 */
export function typedParam(column: MysqlColumn, expr = '?'): string {
  const t = column.columnType;
  if (INTEGER.has(column.dataType)) return `cast(${expr} as ${t.includes('unsigned') ? 'unsigned' : 'signed'})`;
  if (column.dataType === 'decimal') {
    const m = /\((\d+)(?:,(\d+))?\)/.exec(t);
    return `cast(${expr} as decimal(${m?.[1] ?? 10},${m?.[2] ?? 0}))`;
  }
  if (column.kind === 'datetime') return `cast(${expr} as datetime(${/\((\d)\)/.exec(t)?.[1] ?? 0}))`;
  if (column.dataType === 'date') return `cast(${expr} as date)`;
  if (column.dataType === 'time') return `cast(${expr} as time(${/\((\d)\)/.exec(t)?.[1] ?? 0}))`;
  return expr;
}
