import { isJsonNull, isLosslessNumber, parseJsonColumn, stringifyJson } from '../../core/json-values.js';
import type { RawRow } from '../../core/types.js';
import type { MysqlColumn } from './catalog.js';

/**
 * Values as the MySQL connectors read and write them (README: "What your
 * schema and mapper see"):
 *
 *   read                                   from a column of type
 *   string (exact text)                    BIGINT, DECIMAL, DATE, DATETIME(n), TIMESTAMP(n) (in UTC), TIME
 *   number                                 TINYINT…INT, FLOAT, DOUBLE, YEAR
 *   parsed exactly (LosslessNumber where a JS number would change it; JSON null -> JSON_NULL)   JSON
 *   '\x' + hex, as Postgres prints bytea   BINARY, VARBINARY, BLOB, BIT
 *   string                                 CHAR, VARCHAR, TEXT, ENUM, SET
 *
 * Written back, each of these is accepted by the same column type, so a
 * MySQL -> MySQL or Postgres -> MySQL stream copies values unchanged.
 */

/** A row as mysql2 returned it (pool.ts options) -> the record the source yields. */
export function readRow(row: RawRow, jsonColumns: readonly string[]): RawRow {
  for (const [name, value] of Object.entries(row)) {
    if (Buffer.isBuffer(value)) row[name] = `\\x${value.toString('hex')}`;
  }
  for (const name of jsonColumns) {
    const value = row[name];
    if (typeof value === 'string') row[name] = parseJsonColumn(value);
  }
  return row;
}

const HEX_BYTES = /^\\x((?:[0-9a-fA-F]{2})*)$/;
const ZONED = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * A timestamp as text for a DATETIME/TIMESTAMP column (the session is in UTC):
 * one with a zone ('…+00', '…Z', '…+05:30', as Postgres and ISO 8601 print it)
 * is moved to UTC, the fraction kept digit for digit; a 'T' becomes a space.
 * Anything else is left for the server to accept or refuse.
 */
export function datetimeText(text: string): string {
  const m = ZONED.exec(text.trim());
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  if (!zone) return `${y}-${mo}-${d} ${h}:${mi}:${s}${frac}`;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  const at = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMin * 60_000);
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1000 || at.getUTCFullYear() > 9999) return text;
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}${frac}`;
}

/** The parameter mysql2 sends for a projection value written to `column` (null: SQL NULL). */
export function writeValue(value: unknown, column: MysqlColumn): unknown {
  if (value === null || value === undefined) return null;
  if (column.kind === 'json') return isJsonNull(value) ? 'null' : stringifyJson(value);
  if (column.kind === 'binary') {
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const hex = typeof value === 'string' ? HEX_BYTES.exec(value) : null;
    if (hex) return Buffer.from(hex[1] as string, 'hex');
  }
  if (column.kind === 'datetime') {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : datetimeText(value.toISOString());
    if (typeof value === 'string') return datetimeText(value);
  }
  switch (typeof value) {
    case 'string':
    case 'number':
      return value;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 1 : 0;
    case 'object':
      if (isJsonNull(value)) return null;
      if (isLosslessNumber(value)) return value.toString();
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      return stringifyJson(value);
    default:
      return String(value);
  }
}

/** A key value as text, for the read-back of ids (compared in SQL as the column's type, see typedParam). */
export function keyText(value: unknown, column: MysqlColumn): string | null {
  const v = writeValue(value, column);
  return v === null ? null : String(v);
}
