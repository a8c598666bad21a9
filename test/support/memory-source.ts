import type { FetchRequest, Source, SourcePage } from '../../src/connectors/source.js';
import type { Cursor, RawRow } from '../../src/core/types.js';

/**
 * An in-process source over an array, for tests of the engine and of targets:
 * records are read in array order, the cursor is the index after the last row
 * read (`{ offset }`), so it is incremental with a sequence-like checkpoint.
 */
export interface MemorySource extends Source {
  records: RawRow[];
}

export function memorySource(system: string, records: RawRow[] = []): MemorySource {
  const source: MemorySource = {
    system,
    records,
    capabilities: { incremental: true, snapshot: true, lookBack: false },
    check: async () => undefined,
    lag: () => null,
    close: async () => undefined,
    async fetch(request: FetchRequest): Promise<SourcePage> {
      const after = request.after as { offset?: unknown } | null;
      const from = typeof after?.offset === 'number' ? after.offset : 0;
      const rows = source.records.slice(from, from + request.limit);
      const next: Cursor = { offset: from + rows.length };
      return { rows, next, done: from + rows.length >= source.records.length };
    },
  };
  return source;
}
