import { stringify } from 'lossless-json';
import type { EntityPlan } from './define-exchange.js';

/**
 * Conflict policies: pure functions from the two versions of an entity (and
 * the last version both sides shared, when known) to the version both will
 * keep. Values are as lossless-json parses them, so numbers keep every digit.
 *
 * An entity's lines are merged by line uuid whatever the policy: a line only
 * one side has is kept (it was added there), and a line both sides changed
 * goes to the policy's rule for whole versions (for 'merge', its fallback).
 */

/** An entity's data: its columns, and per line set an array of line objects. */
export type EntityDoc = Record<string, unknown>;

export type ConflictKind = 'edit-edit' | 'delete-edit';

export interface ConflictContext {
  type: string;
  uuid: string;
  /** the receiving node's version */
  local: EntityDoc;
  /** the sender's version */
  incoming: EntityDoc;
  /** the entity's columns before the receiving node's first unsent change (null when unknown, e.g. inserted on both) */
  base: EntityDoc | null;
  /** which of the two versions is the central node's */
  central: 'local' | 'incoming';
  /** 'delete-edit': one side deleted it (is_deleted) while the other edited it */
  kind: ConflictKind;
}

/** A custom policy: returns the version both sides keep (it must keep the entity's uuid). */
export type CustomResolver = (conflict: ConflictContext) => EntityDoc;

/** Whose version was kept: the whole of it, or its columns with the other side's added lines ('... + lines'), or neither ('merged'). */
export type Winner = 'central' | 'peripheral' | 'central + lines' | 'peripheral + lines' | 'merged';

export interface Resolution {
  result: EntityDoc;
  winner: Winner;
  /** the result is exactly this side's version (then that side needs nothing back) */
  sameAs: 'central' | 'peripheral' | null;
}

/** Same value, exactly (numbers compared by their digits, objects by their text). */
export function sameValue(a: unknown, b: unknown): boolean {
  return stringify(a ?? null) === stringify(b ?? null);
}

/**
 * Orders two `updated_at` values as Postgres renders timestamptz in UTC
 * ("2026-12-01T10:00:00.5+00:00"): in that format, text order is time order
 * ('+' sorts before '.' and before digits, so a shorter fraction sorts first).
 */
export function compareTimestamps(a: unknown, b: unknown): number {
  const x = String(a ?? '');
  const y = String(b ?? '');
  return x < y ? -1 : x > y ? 1 : 0;
}

type Side = 'central' | 'peripheral';

function lineKey(line: unknown): string {
  return String((line as EntityDoc).uuid);
}

/** The lines of both sides by uuid; a line on both sides that differs is settled by `pick`. */
function mergeLines(entity: EntityPlan, central: EntityDoc, peripheral: EntityDoc, pick: (c: EntityDoc, p: EntityDoc) => Side): EntityDoc {
  const out: EntityDoc = {};
  for (const set of entity.lines) {
    const c = (central[set.name] as EntityDoc[] | undefined) ?? [];
    const p = (peripheral[set.name] as EntityDoc[] | undefined) ?? [];
    const byUuid = new Map(c.map((l) => [lineKey(l), l]));
    for (const line of p) {
      const mine = byUuid.get(lineKey(line));
      if (!mine) byUuid.set(lineKey(line), line);
      else if (!sameValue(mine, line) && pick(mine, line) === 'peripheral') byUuid.set(lineKey(line), line);
    }
    out[set.name] = [...byUuid.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
  }
  return out;
}

const centralWins = (): Side => 'central';
const newerWins = (c: EntityDoc, p: EntityDoc): Side => (compareTimestamps(p.updated_at, c.updated_at) > 0 ? 'peripheral' : 'central');

function headerOf(entity: EntityPlan, doc: EntityDoc): EntityDoc {
  return Object.fromEntries(entity.columns.map((c) => [c, doc[c] ?? null]));
}

function wholeVersion(entity: EntityPlan, central: EntityDoc, peripheral: EntityDoc, pick: (c: EntityDoc, p: EntityDoc) => Side): EntityDoc {
  const side = pick(central, peripheral);
  return { ...headerOf(entity, side === 'central' ? central : peripheral), ...mergeLines(entity, central, peripheral, pick) };
}

/** Column-level merge: a column changed on one side only keeps that change; one changed on both goes to `pick`. */
function mergeColumns(entity: EntityPlan, conflict: ConflictContext, central: EntityDoc, peripheral: EntityDoc, pick: (c: EntityDoc, p: EntityDoc) => Side): EntityDoc {
  const base = conflict.base;
  if (!base || conflict.kind === 'delete-edit') return wholeVersion(entity, central, peripheral, pick);
  const bothChangedWinner = pick(central, peripheral) === 'central' ? central : peripheral;
  const header: EntityDoc = {};
  for (const col of entity.columns) {
    const c = central[col] ?? null;
    const p = peripheral[col] ?? null;
    if (col === 'updated_at') header[col] = compareTimestamps(c, p) >= 0 ? c : p;
    else if (sameValue(c, p)) header[col] = c;
    else if (sameValue(c, base[col])) header[col] = p;
    else if (sameValue(p, base[col])) header[col] = c;
    else header[col] = bothChangedWinner[col] ?? null;
  }
  return { ...header, ...mergeLines(entity, central, peripheral, pick) };
}

function sameHeader(entity: EntityPlan, a: EntityDoc, b: EntityDoc): boolean {
  return entity.columns.every((c) => sameValue(a[c], b[c]));
}

function sameDoc(entity: EntityPlan, a: EntityDoc, b: EntityDoc): boolean {
  return sameHeader(entity, a, b) && entity.lines.every((l) => sameValue(a[l.name] ?? [], b[l.name] ?? []));
}

/** Settles one conflict by the entity's policy. */
export function resolveConflict(entity: EntityPlan, conflict: ConflictContext): Resolution {
  const central = conflict.central === 'local' ? conflict.local : conflict.incoming;
  const peripheral = conflict.central === 'local' ? conflict.incoming : conflict.local;
  const policy = entity.policy;
  let result: EntityDoc;
  switch (policy.kind) {
    case 'central-wins':
      result = wholeVersion(entity, central, peripheral, centralWins);
      break;
    case 'last-writer-wins':
      result = wholeVersion(entity, central, peripheral, newerWins);
      break;
    case 'merge':
      result = mergeColumns(entity, conflict, central, peripheral, policy.fallback === 'central-wins' ? centralWins : newerWins);
      break;
    case 'custom': {
      const chosen = policy.resolve(conflict);
      if (!chosen || typeof chosen !== 'object' || String(chosen.uuid) !== conflict.uuid) {
        throw new TypeError(`custom conflict resolver of ${entity.type} returned no version with uuid ${conflict.uuid}`);
      }
      result = { ...headerOf(entity, chosen), ...Object.fromEntries(entity.lines.map((l) => [l.name, chosen[l.name] ?? []])) };
      break;
    }
  }
  const sameAs = sameDoc(entity, result, central) ? 'central' : sameDoc(entity, result, peripheral) ? 'peripheral' : null;
  const winner: Winner =
    sameAs ?? (sameHeader(entity, result, central) ? 'central + lines' : sameHeader(entity, result, peripheral) ? 'peripheral + lines' : 'merged');
  return { result, winner, sameAs };
}

export function policyName(entity: EntityPlan): string {
  const p = entity.policy;
  return p.kind === 'merge' ? `merge (fallback ${p.fallback})` : p.kind;
}
