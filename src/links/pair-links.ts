/**
 * Which pairs are linked, and what a stream of a linked pair needs to know of
 * its pair: its sides, the significant fields of both streams, the policy.
 *
 * A pair is linked when one of its streams declares `conflicts`. The two
 * sides of a link are named from the pair's point of view: `local` is the
 * system the import writes into and the export reads from (the site), `remote`
 * the other one (1C). Unlinked pairs and single streams keep their per-stream
 * bindings (the fast path).
 */
import { ConfigurationError } from '../core/errors.js';
import type { ResolvedStream } from '../config/define-stream.js';
import type { ConflictPolicy } from './policies.js';

export type LinkSide = 'local' | 'remote';

export interface LinkedPair {
  name: string;
  self: ResolvedStream;
  /** the pair's other stream, when declared */
  other: ResolvedStream | undefined;
  /** the side this stream reads (export: local; import: remote) */
  sourceSide: LinkSide;
  targetSide: LinkSide;
  /** this stream's significant fields (its version is their hash), in its source's terms */
  sourceFields: readonly string[];
  /** the other stream's significant fields, in this stream's target's terms; undefined without the other stream */
  targetFields: readonly string[] | undefined;
  policy: ConflictPolicy;
  /** the policy is declared on this stream ('source' in it means this stream's source) */
  policyOnSelf: boolean;
}

interface Lookup {
  all(): ResolvedStream[];
}

const cache = new WeakMap<ResolvedStream, LinkedPair | null>();

/** The linked pair of this stream, or undefined when it is not one stream of a linked pair. */
export function linkedPairOf(registry: Lookup, stream: ResolvedStream): LinkedPair | undefined {
  if (!stream.pair) return undefined;
  const known = cache.get(stream);
  if (known !== undefined) return known ?? undefined;
  const pairName = stream.pair.name;
  const other = registry.all().find((s) => s !== stream && s.pair?.name === pairName);
  const declaring = stream.conflicts !== undefined ? stream : other?.conflicts !== undefined ? other : undefined;
  let linked: LinkedPair | null = null;
  if (declaring?.conflicts !== undefined) {
    const sourceSide: LinkSide = stream.pair.direction === 'export' ? 'local' : 'remote';
    linked = {
      name: pairName,
      self: stream,
      other,
      sourceSide,
      targetSide: sourceSide === 'local' ? 'remote' : 'local',
      sourceFields: significantFields(stream),
      targetFields: other ? significantFields(other) : undefined,
      policy: declaring.conflicts,
      policyOnSelf: declaring === stream,
    };
  }
  cache.set(stream, linked);
  return linked ?? undefined;
}

function significantFields(stream: ResolvedStream): readonly string[] {
  const rule = stream.version;
  if ('fields' in rule && rule.fields !== 'all') return rule.fields;
  throw new ConfigurationError(
    `stream "${stream.name}": field "version": a stream of linked pair "${stream.pair?.name}" needs a hash of its significant fields as its version`,
    "declare version: { fields: ['email', 'phone', …] }: a timestamp or the other side's own revision changes on every write, so echoes and conflicts could not be told",
  );
}

/** Checks every linked pair when the configuration loads (called by collectPairs). */
export function checkLinkedPairs(streams: readonly ResolvedStream[]): void {
  for (const stream of streams) {
    if (!stream.pair && (stream.conflicts !== undefined || stream.writeBack !== undefined)) {
      throw new ConfigurationError(`stream "${stream.name}": field "${stream.conflicts !== undefined ? 'conflicts' : 'writeBack'}": applies to a stream of a pair`, "declare pair: '<entity>' and direction: 'import' | 'export'");
    }
    if (!stream.pair) continue;
    const other = streams.find((s) => s !== stream && s.pair?.name === stream.pair?.name);
    if (stream.conflicts !== undefined && other?.conflicts !== undefined) {
      throw new ConfigurationError(`pair "${stream.pair.name}": both "${stream.name}" and "${other.name}" declare conflicts`, 'declare the policy once, on one stream of the pair');
    }
    const linked = linkedPairOf({ all: () => [...streams] }, stream);
    if (!linked) {
      if (stream.writeBack) throw new ConfigurationError(`stream "${stream.name}": field "writeBack": needs a linked pair`, 'declare the pair\'s conflicts policy on one of its streams');
      continue;
    }
    if (stream.plan.deletes.mode !== 'none') {
      throw new ConfigurationError(`stream "${stream.name}": field "deletes": a stream of linked pair "${linked.name}" does not delete yet`, "use deletes: 'none'; mark deletions with a soft-delete field the mapper carries");
    }
    if (!stream.target.capabilities.returnsIds) {
      throw new ConfigurationError(`stream "${stream.name}": target system "${stream.target.system}" returns no ids, and a linked pair keeps each entity's key on both sides`, 'use a target that returns the id it wrote (postgresTarget idColumn, an HTTP target idPath)');
    }
    if (stream.writeBack) {
      if (stream.pair.direction !== 'export') throw new ConfigurationError(`stream "${stream.name}": field "writeBack": only an export stream writes back into its source`);
      if (typeof stream.source.writeBack !== 'function') {
        throw new ConfigurationError(`stream "${stream.name}": field "writeBack": source system "${stream.source.system}" cannot write back`, 'write-back is supported by postgresSource');
      }
      const columns = [...Object.keys(stream.writeBack.onSuccess ?? {}), ...Object.keys(stream.writeBack.onFailure ?? {})];
      const significant = columns.filter((c) => linked.sourceFields.includes(c));
      if (significant.length) {
        throw new ConfigurationError(`stream "${stream.name}": field "writeBack": ${significant.join(', ')} ${significant.length > 1 ? 'are' : 'is'} among the stream's significant fields`, 'a write-back must never look like a profile change: write back only columns outside version.fields');
      }
    }
  }
}
