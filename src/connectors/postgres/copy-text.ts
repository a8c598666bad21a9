import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';

/** Characters COPY's text format reads specially: the delimiter, line ends and the escape itself. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field in COPY text format: `\N` for NULL, the four special characters escaped. */
export function copyField(text: string | null): string {
  if (text === null) return '\\N';
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c] as string) : text;
}

/** About 1 MiB of text per chunk written to the COPY stream. */
const CHUNK_CHARS = 1 << 20;

/**
 * Streams rows (already COPY text lines, each ending in a newline) into
 * `copy <table> from stdin` on this client, in chunks of about a megabyte.
 */
export async function copyLines(client: pg.PoolClient, copyStatement: string, lines: readonly string[]): Promise<void> {
  function* chunks(): Generator<string> {
    let chunk = '';
    for (const line of lines) {
      chunk += line;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(copyStatement)));
}
