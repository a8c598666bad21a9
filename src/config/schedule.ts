import { z } from 'zod';
import { durationToMs, formatMs } from '../core/duration.js';

/**
 * `schedule` of a stream or a pipeline: when `ferry schedule apply` makes
 * Temporal start it. Cron expressions or an interval, in an IANA time zone,
 * with a catch-up window ("misfire grace"); overlapping starts are skipped.
 *
 * @example { cron: '0 7 * * *', timezone: 'Europe/Kaliningrad', catchupWindow: '1h' }
 * @example { every: '30s' }
 */
export interface ScheduleConfig {
  /** one or more 5-field cron expressions (minute hour day-of-month month day-of-week), or @daily, @hourly ... */
  cron?: string | readonly string[];
  /** an interval instead of cron: '30s', '15 minutes', or milliseconds; at least 30 s */
  every?: string | number;
  /** IANA time zone the cron fields are read in, e.g. 'Europe/Kaliningrad'. Default 'UTC' */
  timezone?: string;
  /** a start missed (server or workers down) is still made if it is at most this late. Default '1h'; at least 10 s */
  catchupWindow?: string | number;
  /** pause the schedule when a scheduled run fails. Default false */
  pauseOnFailure?: boolean;
}

/** A schedule with every default filled in: plain JSON. */
export interface ResolvedSchedule {
  /** cron expressions, as written (empty when `everyMs` is set) */
  cron: string[];
  /** the interval in milliseconds, or null for cron */
  everyMs: number | null;
  timezone: string;
  catchupWindowMs: number;
  pauseOnFailure: boolean;
  /** one line for people: "cron 0 7 * * * (Europe/Kaliningrad)" */
  description: string;
}

export const MIN_INTERVAL_MS = 30_000;
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const DEFAULT_CATCHUP_WINDOW = '1h';

// ---- time zones --------------------------------------------------------------------------

/**
 * Why `tz` is not a time zone name the Temporal server will load, or undefined
 * when it is. Intl knows the IANA database; Temporal (Go) wants the exact
 * spelling, so a name Intl only accepts case-insensitively is refused with the
 * right spelling.
 */
export function timezoneProblem(tz: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return `"${tz}" is not an IANA time zone name (like "Europe/Kaliningrad" or "UTC"; offsets like +03:00 are not accepted)`;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return `unknown time zone "${tz}" (use an IANA name such as "Europe/Kaliningrad" or "UTC")`;
  }
  if (resolved.toLowerCase() === tz.toLowerCase() && resolved !== tz) return `time zone "${tz}" must be spelled "${resolved}"`;
  return undefined;
}

// ---- cron --------------------------------------------------------------------------------

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** value of names[0] */
  namesFrom?: number;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 6, names: DAY_NAMES, namesFrom: 0 },
];

const CRON_SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function cronValue(text: string, field: CronField): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : `${field.name} ${n} is out of range ${field.min}-${field.max}`;
  }
  const i = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (i >= 0) return i + (field.namesFrom ?? 0);
  return `"${text}" is not a valid ${field.name}${field.names ? ` (${field.min}-${field.max} or ${field.names[0]}-${field.names.at(-1)})` : ` (${field.min}-${field.max})`}`;
}

function cronFieldProblem(text: string, field: CronField): string | undefined {
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m) return `"${item}" is not a valid ${field.name}`;
    const [, range, step] = m as unknown as [string, string, string | undefined];
    if (step !== undefined && Number(step) < 1) return `step "/${step}" in the ${field.name} must be at least 1`;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `"${range}" is not a valid ${field.name} range`;
    const values = bounds.map((b) => cronValue(b, field));
    const bad = values.find((v) => typeof v === 'string');
    if (bad !== undefined) return bad as string;
    if (values.length === 2 && (values[0] as number) > (values[1] as number)) return `${field.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/**
 * Why a cron expression would not do what it says, or undefined when it is
 * valid: five fields (minute hour day-of-month month day-of-week) with *, lists,
 * ranges, steps and JAN-DEC / SUN-SAT names, or a shorthand such as @daily.
 * Time zones go in `timezone`, intervals in `every`.
 */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (/^(CRON_)?TZ=/i.test(text)) return `cron "${expression}": put the time zone in "timezone", not in the expression`;
  if (/^@every\b/i.test(text)) return `cron "${expression}": use "every" for intervals`;
  if (text.startsWith('@')) return CRON_SHORTHANDS.has(text.toLowerCase()) ? undefined : `cron "${expression}": unknown shorthand (use one of ${[...CRON_SHORTHANDS].join(', ')})`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    return `cron "${expression}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected 5: minute hour day-of-month month day-of-week (e.g. "0 7 * * *")`;
  }
  for (const [i, f] of fields.entries()) {
    const problem = cronFieldProblem(f, CRON_FIELDS[i] as CronField);
    if (problem) return `cron "${expression}": ${problem}`;
  }
  return undefined;
}

// ---- the schema --------------------------------------------------------------------------

const durationInput = z.union([z.number().int().positive(), z.string().min(1)]);

/** zod schema of `schedule`; parses to a ResolvedSchedule. Issues carry the field path (schedule.timezone ...). */
export const scheduleSchema = z
  .strictObject({
    cron: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    every: durationInput.optional(),
    timezone: z.string().min(1).default('UTC'),
    catchupWindow: durationInput.default(DEFAULT_CATCHUP_WINDOW),
    pauseOnFailure: z.boolean().default(false),
  }, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (a schedule has cron or every, timezone, catchupWindow, pauseOnFailure)`
        : undefined,
  })
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.every === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give either "cron" or "every" (an interval), not both and not neither' });
    }
    for (const [i, c] of (typeof s.cron === 'string' ? [s.cron] : (s.cron ?? [])).entries()) {
      const problem = cronProblem(c);
      if (problem) ctx.addIssue({ code: 'custom', path: typeof s.cron === 'string' ? ['cron'] : ['cron', i], message: problem });
    }
    if (s.every !== undefined) {
      const ms = durationToMs(s.every);
      if (ms === undefined) ctx.addIssue({ code: 'custom', path: ['every'], message: `"${s.every}" is not a duration (like '30s', '15 minutes', '1h', or milliseconds)` });
      else if (ms < MIN_INTERVAL_MS) ctx.addIssue({ code: 'custom', path: ['every'], message: `interval ${formatMs(ms)} is shorter than the minimum of 30s` });
      else if (ms % 1000 !== 0) ctx.addIssue({ code: 'custom', path: ['every'], message: `interval ${formatMs(ms)} must be whole seconds` });
    }
    const tzProblem = timezoneProblem(s.timezone);
    if (tzProblem) ctx.addIssue({ code: 'custom', path: ['timezone'], message: tzProblem });
    const catchup = durationToMs(s.catchupWindow);
    if (catchup === undefined) ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: `"${s.catchupWindow}" is not a duration (like '1h' or '30 minutes')` });
    else if (catchup < MIN_CATCHUP_WINDOW_MS) ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: `catch-up window ${formatMs(catchup)} is shorter than Temporal's minimum of 10s` });
  })
  .transform((s): ResolvedSchedule => {
    const cron = s.cron === undefined ? [] : typeof s.cron === 'string' ? [s.cron.trim()] : s.cron.map((c) => c.trim());
    const everyMs = s.every === undefined ? null : (durationToMs(s.every) as number);
    const catchupWindowMs = durationToMs(s.catchupWindow) as number;
    const when = everyMs !== null ? `every ${formatMs(everyMs)}` : `cron ${cron.join(' | ')} (${s.timezone})`;
    return {
      cron,
      everyMs,
      timezone: s.timezone,
      catchupWindowMs,
      pauseOnFailure: s.pauseOnFailure,
      description: `${when}, catch-up window ${formatMs(catchupWindowMs)}, overlap skip`,
    };
  });
