/**
 * Stream pairs: the import and the export stream of one entity, declared with
 * the same `pair` name and opposite `direction`s. Each stays a stream of its
 * own (its own workflow id, lock, checkpoint and runs); the pair only lets
 * `ferry run <pair> --direction import|export|both` pick them.
 */
import { ConfigurationError, UnknownStreamError } from '../core/errors.js';
import type { ResolvedStream, StreamDirection } from './define-stream.js';
import { checkLinkedPairs } from '../links/pair-links.js';

export type RunDirection = StreamDirection | 'both';

export interface StreamPair {
  name: string;
  import?: ResolvedStream | undefined;
  export?: ResolvedStream | undefined;
}

/** The pairs among these streams; throws ConfigurationError on a clash. */
export function collectPairs(streams: readonly ResolvedStream[]): Map<string, StreamPair> {
  const names = new Set(streams.map((s) => s.name));
  const pairs = new Map<string, StreamPair>();
  for (const stream of streams) {
    if (!stream.pair) continue;
    const { name, direction } = stream.pair;
    if (names.has(name)) {
      throw new ConfigurationError(`stream "${stream.name}": pair "${name}" is also the name of a stream`, 'give the pair a name no stream has, so `ferry run <name>` means one thing');
    }
    const pair = pairs.get(name) ?? { name };
    const taken = pair[direction];
    if (taken) {
      throw new ConfigurationError(`pair "${name}" has two ${direction} streams: "${taken.name}" and "${stream.name}"`, `one stream per direction; give one of them direction '${direction === 'import' ? 'export' : 'import'}' or another pair name`);
    }
    pair[direction] = stream;
    pairs.set(name, pair);
  }
  checkLinkedPairs(streams);
  return pairs;
}

/** What a registry offers to this module (StreamRegistry has it). */
export interface StreamLookup {
  all(): ResolvedStream[];
  names(): string[];
}

/**
 * The streams `ferry run <name> [--direction d]` runs, in order: a stream name
 * alone is that stream; a pair name needs a direction ('both': import, then export).
 */
export function streamsToRun(registry: StreamLookup, name: string, direction: RunDirection | undefined): ResolvedStream[] {
  const streams = registry.all();
  const stream = streams.find((s) => s.name === name);
  if (stream) {
    if (direction === undefined) return [stream];
    if (!stream.pair) {
      throw new ConfigurationError(`stream "${name}" is not part of a pair: --direction applies to pairs`, `run it without --direction, or declare pair and direction in its defineStream`);
    }
    if (direction === stream.pair.direction) return [stream];
    throw new ConfigurationError(
      `stream "${name}" is the ${stream.pair.direction} stream of pair "${stream.pair.name}"`,
      direction === 'both' ? `for both directions run the pair: ferry run ${stream.pair.name} --direction both` : `for the ${direction} stream run: ferry run ${stream.pair.name} --direction ${direction}`,
    );
  }
  const pairs = collectPairs(streams);
  const pair = pairs.get(name);
  if (!pair) throw new UnknownStreamError(name, [...registry.names(), ...[...pairs.keys()].map((p) => `${p} (pair)`)]);
  const has = (['import', 'export'] as const).filter((d) => pair[d]).map((d) => `${d}: "${pair[d]!.name}"`).join(', ');
  if (direction === undefined) {
    throw new ConfigurationError(`"${name}" is a stream pair (${has}): say which way with --direction import, export or both`);
  }
  const wanted: StreamDirection[] = direction === 'both' ? ['import', 'export'] : [direction];
  return wanted.map((d) => {
    const s = pair[d];
    if (!s) throw new ConfigurationError(`pair "${name}" has no ${d} stream (${has})`, `declare one with pair: '${name}', direction: '${d}'`);
    return s;
  });
}
