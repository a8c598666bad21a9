// Dates between the site (Postgres timestamptz / date, UTC) and 1C (local time of
// the 1C server, no zone, seconds; 0001-01-01T00:00:00 for "empty").
import { EMPTY_DATE } from '../onec/shape.js';

/** The 1C server's time zone: Moscow unless the base runs elsewhere. */
export const ONEC_TIME_ZONE = 'Europe/Moscow';

const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** A Postgres timestamptz as text ('2024-05-01 09:30:00.123456+00') or ISO: the instant, ms precision. */
export function parseTimestamp(text: string): Date {
  const m = PG_TIMESTAMP.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a timestamp with a time zone`);
  const zone = m[4] === 'Z' ? 'Z' : (m[4] as string).length === 3 ? `${m[4]}:00` : (m[4] as string).replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = (m[3] ?? '.0').slice(0, 4).padEnd(4, '0');
  const at = new Date(`${m[1]}T${m[2]}${ms}${zone}`);
  if (Number.isNaN(at.getTime())) throw new RangeError(`"${text}" is not a valid timestamp`);
  return at;
}

function wallClock(at: Date, timeZone: string): string {
  // sv-SE formats as 'YYYY-MM-DD HH:mm:ss'
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    .format(at)
    .replace(' ', 'T');
}

/** An instant as 1C writes it: the server's local time, seconds. */
export function toOnecDateTime(at: Date, timeZone = ONEC_TIME_ZONE): string {
  return wallClock(at, timeZone);
}

/** A 1C local date-time back to the instant (null for the empty date). */
export function fromOnecDateTime(text: string, timeZone = ONEC_TIME_ZONE): Date | null {
  if (text === EMPTY_DATE) return null;
  const asUtc = Date.parse(`${text}Z`);
  if (Number.isNaN(asUtc)) throw new RangeError(`"${text}" is not a 1C date`);
  // the zone's offset at that moment: the wall clock there minus UTC (twice, for a change of offset in between)
  let guess = asUtc;
  for (let i = 0; i < 2; i += 1) guess = asUtc - (Date.parse(`${wallClock(new Date(guess), timeZone)}Z`) - guess);
  return new Date(guess);
}

/** A calendar date ('1990-05-01', no zone) as 1C's date-time at midnight; null -> the empty date. */
export function toOnecDate(date: string | null): string {
  if (date === null) return EMPTY_DATE;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`"${date}" is not a date (YYYY-MM-DD)`);
  return `${date}T00:00:00`;
}

/** 1C's date-time as a calendar date; null for the empty date. */
export function fromOnecDate(text: string): string | null {
  return text === EMPTY_DATE ? null : text.slice(0, 10);
}
