import { configPath } from '../../config/load-config.js';
import { UnknownStreamError } from '../../core/errors.js';
import { getDeadLetters, type DeadLetterSelection } from '../../state/dead-letter-queue.js';
import type { CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

/** A dead-letter id as typed: digits, within bigint range. */
const ID = /^[0-9]{1,18}$/;

export function parseId(arg: string): string {
  if (!ID.test(arg)) throw new CliExit(ExitCode.config, `ferry: "${arg}" is not a dead-letter id (a number, as ferry dlq list shows)`);
  return String(BigInt(arg));
}

/**
 * What `dlq replay` / `dlq discard` act on, from their arguments: each argument
 * is a stream of the config (all its dead letters) or a dead-letter id. One
 * selection per stream; a stream named in full wins over ids of it.
 * Unknown streams, unknown ids and ids of streams the config does not define
 * end the command with exit code 2.
 */
export async function resolveSelections(ctx: CliContext, args: readonly string[]): Promise<DeadLetterSelection[]> {
  const registry = await ctx.streams();
  const known = new Set(registry.names());
  const whole = new Set<string>();
  const ids: string[] = [];
  for (const arg of args) {
    if (known.has(arg)) whole.add(arg);
    else if (ID.test(arg)) ids.push(parseId(arg));
    else throw new UnknownStreamError(arg, registry.names());
  }

  const byStream = new Map<string, string[]>();
  if (ids.length > 0) {
    const unique = [...new Set(ids)];
    const found = await getDeadLetters(ctx.db(), unique);
    const foundIds = new Set(found.map((l) => l.id));
    const missing = unique.filter((id) => !foundIds.has(id));
    if (missing.length > 0) {
      throw new CliExit(
        ExitCode.config,
        `ferry: no dead letter with id ${missing.join(', ')} (ferry dlq list shows the dead letters; a replayed or discarded one is gone)`,
      );
    }
    const foreign = found.filter((l) => !known.has(l.stream));
    if (foreign.length > 0) {
      const list = foreign.map((l) => `${l.id} (stream "${l.stream}")`).join(', ');
      throw new CliExit(
        ExitCode.config,
        `ferry: dead letter ${list}: the stream is not in the config ${configPath()} (known streams: ${registry.names().join(', ') || '(none)'}); ` +
          'use the config that defines it (FERRY_CONFIG)',
      );
    }
    for (const l of found) byStream.set(l.stream, [...(byStream.get(l.stream) ?? []), l.id]);
  }

  const selections: DeadLetterSelection[] = [...whole].map((stream) => ({ stream }));
  for (const [stream, streamIds] of byStream) if (!whole.has(stream)) selections.push({ stream, ids: streamIds });
  return selections;
}
