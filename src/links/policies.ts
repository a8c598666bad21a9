/**
 * Conflict policies of a stream pair: what happens when both sides changed an
 * entity since the last sync. Pure: no I/O, so each policy is tested on values.
 *
 * A policy is declared on one stream of the pair (`conflicts:`), and 'source'
 * and 'target' mean that stream's source and target, whichever stream of the
 * pair finds the conflict: on the import stream, `'source-wins'` means "the
 * remote system wins", also when the export run is the one that sees it.
 */

export type SideWins = 'source-wins' | 'target-wins';

/** Newer wins by a timestamp field of each side's record (field names of the declaring stream's source and target records). */
export interface LastWriterWins {
  lastWriterWins: { source: string; target: string };
}

/** What a custom resolver sees, in the terms of the side being written (the finding stream's target). */
export interface ConflictCase {
  pair: string;
  /** the stream whose run found the conflict */
  stream: string;
  /** the incoming change, mapped into the written side's terms (its significant fields) */
  incoming: Record<string, unknown>;
  /** what the written side holds now */
  current: Record<string, unknown>;
  /** what both sides held after the last sync (null when not known) */
  base: Record<string, unknown> | null;
  /** true when the finding stream is the one the policy is declared on */
  declaringStream: boolean;
}

/** 'incoming' / 'current', or the values to write (significant fields of the written side). */
export type ConflictResolver = (conflict: ConflictCase) => 'incoming' | 'current' | Record<string, unknown>;

/** Field-level merge: a field changed on one side only is taken from that side; a field changed on both goes to `fallback`. */
export interface FieldMerge {
  merge: SideWins | LastWriterWins | ConflictResolver;
}

export type ConflictPolicy = SideWins | LastWriterWins | FieldMerge | ConflictResolver;

/** How the finding stream applies a resolution. */
export type Resolution =
  | { winner: 'incoming'; reason: string }
  | { winner: 'current'; reason: string }
  | { winner: 'merged'; values: Record<string, unknown>; reason: string };

export interface ConflictInput extends ConflictCase {
  /** the incoming record's and the current record's timestamps, read by the policy's fields (lastWriterWins only) */
  incomingTime?: unknown;
  currentTime?: unknown;
}

/** Stable equality of two field values (dates by instant, objects by content). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return typeof value === 'bigint' ? JSON.stringify(value.toString()) : JSON.stringify(value);
}

/** A short name for the conflict log. */
export function policyName(policy: ConflictPolicy): string {
  if (typeof policy === 'string') return policy;
  if (typeof policy === 'function') return `custom${policy.name ? `:${policy.name}` : ''}`;
  if ('lastWriterWins' in policy) return 'last-writer-wins';
  return `field-merge(${policyName(policy.merge)})`;
}

const timeOf = (v: unknown): number | undefined => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' || typeof v === 'number') {
    const t = new Date(v).getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
};

/** source-wins / target-wins, turned into incoming / current for the finding stream. */
function sideWins(policy: SideWins, declaringStream: boolean): 'incoming' | 'current' {
  const sourceWins = policy === 'source-wins';
  // On the declaring stream the incoming change comes from its source; on the other stream, from its target.
  return sourceWins === declaringStream ? 'incoming' : 'current';
}

function lastWriter(input: ConflictInput): { winner: 'incoming' | 'current'; reason: string } {
  const a = timeOf(input.incomingTime);
  const b = timeOf(input.currentTime);
  if (a === undefined || b === undefined) {
    // Without both times there is no newer one: the current value stays, and the log says why.
    return { winner: 'current', reason: `last-writer-wins: a timestamp is missing (incoming ${String(input.incomingTime)}, current ${String(input.currentTime)}); kept the current value` };
  }
  return a > b
    ? { winner: 'incoming', reason: `last-writer-wins: the incoming change (${new Date(a).toISOString()}) is newer than the current one (${new Date(b).toISOString()})` }
    : { winner: 'current', reason: `last-writer-wins: the current value (${new Date(b).toISOString()}) is as new as or newer than the incoming change (${new Date(a).toISOString()})` };
}

function custom(resolver: ConflictResolver, input: ConflictInput): Resolution {
  const out = resolver({ pair: input.pair, stream: input.stream, incoming: input.incoming, current: input.current, base: input.base, declaringStream: input.declaringStream });
  if (out === 'incoming' || out === 'current') return { winner: out, reason: `custom resolver chose the ${out} value` };
  if (typeof out !== 'object' || out === null) throw new TypeError(`the conflict resolver of pair "${input.pair}" returned ${String(out)}: return 'incoming', 'current' or the values to write`);
  return { winner: 'merged', values: { ...input.current, ...out }, reason: 'custom resolver merged the values' };
}

/** Whole-record policies (everything but a field merge). */
function wholeRecord(policy: Exclude<ConflictPolicy, FieldMerge>, input: ConflictInput): Resolution {
  if (typeof policy === 'function') return custom(policy, input);
  if (typeof policy === 'string') {
    const winner = sideWins(policy, input.declaringStream);
    return { winner, reason: `${policy}: the ${winner === 'incoming' ? 'incoming change' : 'current value'} wins` };
  }
  return lastWriter(input);
}

/**
 * Resolves one conflict. Field merge compares each significant field of the
 * written side with its value at the last sync: changed on one side only →
 * that side's value; changed on both (to different values) → the fallback.
 */
export function resolveConflict(policy: ConflictPolicy, input: ConflictInput): Resolution {
  if (typeof policy === 'function' || typeof policy === 'string' || 'lastWriterWins' in policy) return wholeRecord(policy, input);
  const base = input.base ?? {};
  const fields = new Set([...Object.keys(input.incoming), ...Object.keys(input.current)]);
  const values: Record<string, unknown> = {};
  const fromIncoming: string[] = [];
  const fromCurrent: string[] = [];
  const both: string[] = [];
  for (const f of fields) {
    const inChanged = !sameValue(input.incoming[f], base[f]);
    const curChanged = !sameValue(input.current[f], base[f]);
    if (inChanged && curChanged && !sameValue(input.incoming[f], input.current[f])) both.push(f);
    else if (inChanged) {
      values[f] = input.incoming[f];
      fromIncoming.push(f);
    } else {
      values[f] = input.current[f];
      if (curChanged) fromCurrent.push(f);
    }
  }
  let fallbackNote = '';
  if (both.length > 0) {
    const sub: ConflictInput = { ...input, incoming: pick(input.incoming, both), current: pick(input.current, both), base: input.base ? pick(input.base, both) : null };
    const r = wholeRecord(policy.merge, sub);
    const chosen = r.winner === 'merged' ? r.values : r.winner === 'incoming' ? sub.incoming : sub.current;
    for (const f of both) values[f] = chosen[f];
    fallbackNote = `; changed on both sides: ${both.join(', ')} → ${r.reason}`;
  }
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
  return { winner: 'merged', values, reason: `field merge: from the incoming change ${list(fromIncoming)}; kept current ${list(fromCurrent)}${fallbackNote}` };
}

export function pick(values: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = values[f] ?? null;
  return out;
}
