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

/** The key parts of a row, or null when any key field is missing. */
export function keyOf(row: RawRow, keyFields: readonly string[]): string[] | null {
  const parts: string[] = [];
  for (const field of keyFields) {
    const value = row[field];
    if (value === null || value === undefined) return null;
    parts.push(value instanceof Date ? value.toISOString() : String(value));
  }
  return parts;
}
