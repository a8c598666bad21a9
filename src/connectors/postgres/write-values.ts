import { isJsonNull, isLosslessNumber, stringifyJson } from '../../core/json-values.js';
import type { WriteColumn } from './catalog.js';

/**
 * The text Postgres accepts for a value of a target column, or null for SQL
 * NULL. The target casts it to the column's type in SQL, so every value is
 * read by Postgres's own input function: what the source read as text goes
 * back as the same text, and nothing passes through a JS number it does not
 * fit in.
 */
export function columnText(value: unknown, column: WriteColumn): string | null {
  if (typeof value === 'string' && column.kind !== 'json') return value;
  if (value === null || value === undefined) return null;
  if (column.kind === 'json') return isJsonNull(value) ? 'null' : stringifyJson(value);
  if (column.kind === 'array' && Array.isArray(value)) return arrayLiteral(value, column.jsonElements);
  return scalarText(value);
}

function scalarText(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null || isJsonNull(value)) return null;
      if (isLosslessNumber(value)) return value.toString();
      // An invalid Date prints as text Postgres refuses: a rejected row, not a thrown RangeError.
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      return stringifyJson(value);
    default:
      return String(value);
  }
}

/** `{…}` with every element quoted (so commas, quotes, braces and the word NULL stay data), NULL unquoted, nested arrays as dimensions. */
function arrayLiteral(values: readonly unknown[], jsonElements: boolean): string {
  const items = values.map((v) => {
    if (Array.isArray(v) && !jsonElements) return arrayLiteral(v, jsonElements);
    const text = jsonElements ? (v === null || v === undefined ? null : isJsonNull(v) ? 'null' : stringifyJson(v)) : scalarText(v);
    return text === null ? 'NULL' : `"${text.replace(/[\\"]/g, '\\$&')}"`;
  });
  return `{${items.join(',')}}`;
}
