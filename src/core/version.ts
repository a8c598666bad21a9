import { createHash } from 'node:crypto';
import type { RawRow } from './types.js';

/** How a record's version is derived, resolved from the stream definition. */
export type VersionRule = { column: string } | { fields: readonly string[] | 'all' };

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? `"${value.toString()}"` : (JSON.stringify(value) ?? 'null');
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function versionOf(row: RawRow, rule: VersionRule): string {
  if ('column' in rule) {
    const value = row[rule.column];
    return value instanceof Date ? value.toISOString() : String(value ?? '');
  }
  const picked: RawRow = {};
  const fields = rule.fields === 'all' ? Object.keys(row) : rule.fields;
  for (const field of fields) picked[field] = row[field];
  return createHash('sha1').update(stableStringify(picked)).digest('base64url');
}
