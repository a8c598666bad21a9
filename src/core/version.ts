import { createHash } from 'node:crypto';
import { valueAt } from './key.js';
import type { RawRow } from './types.js';

/** How a record's version is derived, resolved from the stream definition. */
/** `field`: a field path holding the version (see valueAt); `fields`: a hash of these fields (or all). */
export type VersionRule = { field: string } | { fields: readonly string[] | 'all' };

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
  if ('field' in rule) {
    const value = valueAt(row, rule.field);
    return value instanceof Date ? value.toISOString() : String(value ?? '');
  }
  const picked: RawRow = {};
  if (rule.fields === 'all') Object.assign(picked, row);
  else for (const field of rule.fields) picked[field] = valueAt(row, field);
  return createHash('sha1').update(stableStringify(picked)).digest('base64url');
}
