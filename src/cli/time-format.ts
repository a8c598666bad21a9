/** Short human forms of durations and moments, for tables and progress lines. */

/** 42s, 3m 05s, 2h 10m, 4d 3h; '-' for null. Negative durations count as 0. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** '3m 05s ago' or 'in 12m 00s', relative to now. */
export function formatRelative(at: Date | null | undefined, now = Date.now()): string {
  if (!at) return '-';
  const seconds = (at.getTime() - now) / 1000;
  return seconds >= 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
}

/** 2026-11-27 14:03:12 (UTC), for tables: the ISO form without its 'T', milliseconds and 'Z'. */
export function formatMoment(at: Date | null | undefined): string {
  return at ? `${at.toISOString().slice(0, 19).replace('T', ' ')}Z` : '-';
}
