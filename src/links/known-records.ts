import { parseKey } from '../core/key.js';
import type { StateDb } from '../state/db.js';
import type { KnownBinding } from '../state/bindings.js';
import { loadLinks } from '../state/links.js';
import type { LinkedPair } from './pair-links.js';

/**
 * What a linked stream already wrote, in the terms of per-stream bindings (key
 * on the side it reads -> id on the side it writes, version of its side), for
 * code that asks "is this record new, changed or unchanged" (the dry run).
 */
export async function knownFromLinks(db: StateDb, linked: LinkedPair, keys: readonly string[]): Promise<Map<string, KnownBinding>> {
  const links = await loadLinks(db, linked.name, linked.sourceSide, keys);
  const known = new Map<string, KnownBinding>();
  for (const [key, link] of links) {
    const targetKey = linked.targetSide === 'local' ? link.localKey : link.remoteKey;
    known.set(key, {
      internalId: targetKey === null ? null : (parseKey(targetKey)[0] ?? null),
      version: linked.sourceSide === 'local' ? link.localVersion : link.remoteVersion,
    });
  }
  return known;
}
