import { createHash } from 'node:crypto';
import { serializeKey } from '../../core/key.js';

/** What happened to a record, as the last token of its subject. */
export type ChangeOp = 'created' | 'updated' | 'deleted';

/**
 * A stream name as subject tokens: its dots stay the subject's separators
 * (`crm.customers` -> `crm.customers`); a character a token cannot hold
 * (space, `*`, `>`, anything but letters, digits, `_` and `-`) becomes `_`.
 */
export function subjectTokens(stream: string): string {
  return stream
    .split('.')
    .map((token) => token.replace(/[^A-Za-z0-9_-]/g, '_') || '_')
    .join('.');
}

/** `<prefix>.<stream>.<op>`: e.g. `ferry.crm.customers.created`. */
export function subjectOf(prefix: string, stream: string, op: ChangeOp): string {
  return `${prefix}.${subjectTokens(stream)}.${op}`;
}

/**
 * The `Nats-Msg-Id` of one change: a hash of stream, external key, version
 * and op. The same change published again (a retried batch, a worker killed
 * mid-batch) has the same id, and JetStream drops it within the stream's
 * duplicate window; a new version, or the delete of a record, is a new id.
 */
export function messageId(stream: string, key: readonly string[], version: string | null, op: ChangeOp): string {
  return createHash('sha256').update(JSON.stringify([stream, serializeKey(key), version, op])).digest('base64url');
}

/** Does a JetStream subject filter (with `*` and `>` wildcards) match this subject? */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
