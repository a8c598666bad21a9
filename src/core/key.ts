import type { RawRow } from './types.js';

/**
 * Stable text form of an external key: a JSON array of the key parts as text,
 * so a composite key can never collide with a differently split one.
 */
export function serializeKey(parts: readonly string[]): string {
  return JSON.stringify(parts);
}

export function parseKey(serialized: string): string[] {
  const parsed: unknown = JSON.parse(serialized);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`not a serialized key: ${serialized}`);
  }
  return parsed;
}

/**
 * The value at a field path of a record: `id`, or `customer.id` for a nested
 * field (a dot always means nesting). Undefined when any step is missing.
 */
export function valueAt(row: RawRow, path: string): unknown {
  if (!path.includes('.')) return row[path];
  let value: unknown = row;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** The key parts of a row (key fields are paths, see valueAt), or null when any key field is missing. */
export function keyOf(row: RawRow, keyFields: readonly string[]): string[] | null {
  const parts: string[] = [];
  for (const field of keyFields) {
    const value = valueAt(row, field);
    if (value === null || value === undefined) return null;
    parts.push(value instanceof Date ? value.toISOString() : String(value));
  }
  return parts;
}
