import type { Cursor } from '../core/types.js';

/**
 * The checkpoint of the SQL sources (Postgres, MySQL/MariaDB): the cursor
 * column's value (as the server prints it, null without a cursor column) and
 * the key after which to continue. The sources' own shape: the engine stores
 * it and hands it back.
 */
export interface KeysetCursor {
  value: string | null;
  key: string[];
}

export function isKeysetCursor(c: Cursor | null): c is Cursor & KeysetCursor {
  return typeof c === 'object' && c !== null && !Array.isArray(c) && 'key' in c && Array.isArray(c.key);
}

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?$/i;

/**
 * Parses a timestamp as Postgres prints it ('2026-01-01 10:00:00.123456+00',
 * '+05:30', or without zone, read as UTC) or as ISO 8601, to millisecond
 * precision. Null for anything else (a cursor column of another type).
 */
export function parsePgTimestamp(text: string): Date | null {
  const m = PG_TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(utc)) return null;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(/:/g, '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0) + Number(digits.slice(4, 6) || 0) / 60);
  }
  return new Date(utc - offsetMinutes * 60_000);
}

/** Seconds from a timestamp checkpoint's value to `now` (never negative); null when it holds no timestamp. */
export function lagOfKeysetCursor(checkpoint: Cursor, now: Date): number | null {
  const value = isKeysetCursor(checkpoint) ? checkpoint.value : null;
  const at = typeof value === 'string' ? parsePgTimestamp(value) : null;
  return at ? Math.max(0, (now.getTime() - at.getTime()) / 1000) : null;
}
