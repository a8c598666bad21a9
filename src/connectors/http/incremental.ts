import { durationToMs } from '../../core/duration.js';
import { ConfigurationError } from '../../core/errors.js';
import { keyOf, serializeKey, valueAt } from '../../core/key.js';
import type { RawRow } from '../../core/types.js';

/**
 * Incremental reads by an `updated_since`-style query parameter: the API
 * returns the records whose `field` is at or after the value sent in `param`
 * (inclusive: `>=`), sorted by `field` ascending, ties in a stable order
 * (e.g. by id).
 *
 * Ties are never lost: the checkpoint keeps the last `field` value read and
 * the keys already read at it; the next request asks from that value again
 * (`>=`) and drops those keys. A page made only of ties is paged on within
 * the same query (on a page-number or offset API, a tie changed during that
 * paging can shift the pages: a `lookBack` re-reads such records).
 * Past MAX_SEEN keys at one time the checkpoint forgets them (it travels
 * through Temporal history and must stay small): the next run re-reads those
 * ties, and the engine skips them as unchanged (their version is `field`).
 */
export interface HttpIncremental {
  /** the query parameter, e.g. 'updated_since' (or json-server's 'updated_at_gte') */
  param: string;
  /** the record field (path) holding the change time; also the record's version */
  field: string;
  /** incremental runs start this far before the checkpoint ('10 minutes'), for late writes; unchanged records are skipped */
  lookBack?: string | number;
}

export function checkIncremental(inc: HttpIncremental | undefined, what: string): void {
  if (!inc) return;
  if (!inc.param) throw new ConfigurationError(`${what}: field "incremental.param": the query parameter is required`, "e.g. incremental: { param: 'updated_since', field: 'updated_at' }");
  if (!inc.field) throw new ConfigurationError(`${what}: field "incremental.field": the record field is required`, "e.g. incremental: { param: 'updated_since', field: 'updated_at' }");
  if (inc.lookBack !== undefined && durationToMs(inc.lookBack) === undefined) throw new ConfigurationError(`${what}: field "incremental.lookBack": ${JSON.stringify(inc.lookBack)} is not a duration`, "e.g. lookBack: '10 minutes'");
}

/** Where incremental reading stands: the last change time read and the keys read at it. */
export const MAX_SEEN = 1_000;

export interface SinceMark {
  since: string | null;
  seen: string[];
}

const textOf = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * One page through the mark: the records not read before (those at `since`
 * whose key was seen are dropped), the new mark, and whether the page moved
 * past `since` (then the next request starts a fresh query from the new mark).
 */
export function advance(mark: SinceMark, records: readonly RawRow[], field: string, key: readonly string[]): { rows: RawRow[]; mark: SinceMark; moved: boolean } {
  const seen = new Set(mark.seen);
  const keyText = (r: RawRow) => {
    const k = keyOf(r, key);
    return k ? serializeKey(k) : '';
  };
  const rows = records.filter((r) => !(mark.since !== null && textOf(valueAt(r, field)) === mark.since && seen.has(keyText(r))));
  const last = records.length ? textOf(valueAt(records[records.length - 1] as RawRow, field)) : undefined;
  if (last === undefined || last === mark.since) {
    for (const r of rows) if (textOf(valueAt(r, field)) === mark.since) seen.add(keyText(r));
    return { rows, mark: { since: mark.since, seen: seen.size > MAX_SEEN ? [] : [...seen] }, moved: false };
  }
  const atLast = records.filter((r) => textOf(valueAt(r, field)) === last).map(keyText);
  return { rows, mark: { since: last, seen: atLast.length > MAX_SEEN ? [] : atLast }, moved: true };
}

/** The mark moved back by the look-back window (an ISO time); the keys seen are forgotten. */
export function rewound(mark: SinceMark, lookBack: string | number | undefined): SinceMark {
  const ms = lookBack === undefined ? undefined : durationToMs(lookBack);
  const at = mark.since === null ? NaN : Date.parse(mark.since);
  if (ms === undefined || Number.isNaN(at)) return mark;
  return { since: new Date(at - ms).toISOString(), seen: [] };
}

/** Seconds from the mark's time to now (never negative); null when it is not a time. */
export function lagOf(since: unknown, now: Date): number | null {
  const at = typeof since === 'string' ? Date.parse(since) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, (now.getTime() - at) / 1000);
}
