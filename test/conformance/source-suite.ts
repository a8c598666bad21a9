// The conformance suite every source runs (registerSourceSuite), against its
// real system: paging, checkpoints, ties on the cursor, an empty source.
// Connector-level and fast: it calls fetch() as the fetchBatch activity does,
// storing each checkpoint as JSON in between, as the state store would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FetchRequest, Source, SourcePage } from '../../src/connectors/source.js';
import { keyOf, serializeKey } from '../../src/core/key.js';
import type { Cursor, RawRow, RunMode } from '../../src/core/types.js';

/** One record to put into the source's system. */
export interface SeedRecord {
  id: number;
  name: string;
  /**
   * When it changed, as a position: records with equal ticks have equal cursor
   * values (the same updated_at, the same updated_since second); a higher tick
   * is a later change. Sources without a cursor may ignore it.
   */
  tick: number;
}

export interface SourceFixture {
  /** a source over the fixture's (initially empty) collection */
  source: Source;
  /** the stream key the source is read with (a field path holding the record's id) */
  key: readonly string[];
  /** inserts these records, or updates those whose id exists */
  seed(records: readonly SeedRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface SourceSuiteFactory {
  /** a fresh, empty collection in the real system and a source reading it */
  create(): Promise<SourceFixture>;
}

const records = (from: number, to: number, tick: (id: number) => number = (id) => id, name = 'v1'): SeedRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `${name} ${from + i}`, tick: tick(from + i) }));

/** Every row from `after` to the end, page by page; checks each page's size and that the checkpoint survives JSON. */
async function readAll(fixture: SourceFixture, options: { after?: Cursor | null; limit: number; mode: RunMode; maxPages?: number }) {
  const rows: RawRow[] = [];
  let cursor: Cursor | null = options.after ?? null;
  let pages = 0;
  for (;;) {
    const request: FetchRequest = { shape: { stream: 'conformance', key: fixture.key }, after: cursor, limit: options.limit, mode: options.mode, rewind: false };
    const page: SourcePage = await fixture.source.fetch(request);
    assert.ok(page.rows.length <= options.limit, `a page holds at most limit (${options.limit}) rows, got ${page.rows.length}`);
    rows.push(...page.rows);
    // stored as the checkpoint and read back, as the state store does
    cursor = page.next === null ? cursor : (JSON.parse(JSON.stringify(page.next)) as Cursor);
    pages += 1;
    if (page.done) break;
    assert.ok(pages < (options.maxPages ?? 1_000), 'the source never said done');
  }
  return { rows, cursor, pages };
}

function ids(fixture: SourceFixture, rows: readonly RawRow[]): string[] {
  return rows.map((r) => {
    const key = keyOf(r, fixture.key);
    assert.ok(key, `every row has its key ${fixture.key.join(', ')}`);
    return serializeKey(key);
  });
}

const keysOf = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => serializeKey([String(from + i)]));
const sorted = (xs: string[]) => [...xs].sort();

export function registerSourceSuite(name: string, factory: SourceSuiteFactory): void {
  describe(`source conformance: ${name}`, () => {
    let fixture: SourceFixture;
    const fresh = async () => {
      await fixture?.close();
      fixture = await factory.create();
      return fixture;
    };
    before(fresh);
    after(() => fixture?.close());

    it('declares its system and capabilities', async () => {
      const f = await fresh();
      assert.match(f.source.system, /^[A-Za-z0-9_.:-]+$/);
      for (const c of ['incremental', 'snapshot', 'lookBack'] as const) assert.equal(typeof f.source.capabilities[c], 'boolean', `capabilities.${c}`);
      const size = f.source.capabilities.batchSize;
      assert.ok(size === undefined || (Number.isInteger(size) && size >= 1 && size <= 100_000), `capabilities.batchSize is a stream's batch size (1–100,000), got ${String(size)}`);
      await f.source.check({ stream: 'conformance', key: f.key });
    });

    it('an empty source: one empty page, done', async () => {
      const f = await fresh();
      const page = await f.source.fetch({ shape: { stream: 'conformance', key: f.key }, after: null, limit: 10, mode: 'full', rewind: false });
      assert.deepEqual(page.rows, []);
      assert.equal(page.done, true);
    });

    it('pages to the end: every record once, in pages of at most the limit', async () => {
      const f = await fresh();
      await f.seed(records(1, 25));
      const { rows, pages } = await readAll(f, { limit: 10, mode: 'full' });
      assert.deepEqual(sorted(ids(f, rows)), sorted(keysOf(1, 25)));
      assert.ok(pages >= 3 && pages <= 4, `25 records in pages of 10: 3 pages (or 4 with a last empty one), got ${pages}`);
    });

    it('resumes from a checkpoint: the rest, none twice', async () => {
      const f = await fresh();
      await f.seed(records(1, 25));
      const mode: RunMode = f.source.capabilities.incremental ? 'incremental' : 'full';
      const first = await f.source.fetch({ shape: { stream: 'conformance', key: f.key }, after: null, limit: 10, mode, rewind: false });
      assert.equal(first.rows.length, 10);
      assert.equal(first.done, false);
      const checkpoint = JSON.parse(JSON.stringify(first.next)) as Cursor;
      const rest = await readAll(f, { after: checkpoint, limit: 10, mode });
      assert.deepEqual(sorted([...ids(f, first.rows), ...ids(f, rest.rows)]), sorted(keysOf(1, 25)));
    });

    it('equal cursor values straddling a page edge are all read, once', async (t) => {
      const f = await fresh();
      if (!f.source.capabilities.incremental) return t.skip('not incremental');
      // 1-3 before, 4-13 at one cursor value, 14-15 after; pages of 4 cut the tie twice
      await f.seed(records(1, 15, (id) => (id <= 3 ? id : id <= 13 ? 10 : id + 10)));
      const { rows } = await readAll(f, { limit: 4, mode: 'incremental' });
      assert.deepEqual(sorted(ids(f, rows)), sorted(keysOf(1, 15)));
    });

    it('a second pass from the checkpoint finds nothing new; then only what changed', async (t) => {
      const f = await fresh();
      if (!f.source.capabilities.incremental) return t.skip('not incremental');
      await f.seed(records(1, 12));
      const pass = await readAll(f, { limit: 5, mode: 'incremental' });
      assert.equal(pass.rows.length, 12);
      const again = await readAll(f, { after: pass.cursor, limit: 5, mode: 'incremental' });
      assert.deepEqual(again.rows, [], 'nothing changed: nothing read');
      await f.seed([
        { id: 4, name: 'v2 4', tick: 100 },
        { id: 13, name: 'v1 13', tick: 101 },
      ]);
      const changed = await readAll(f, { after: again.cursor, limit: 5, mode: 'incremental' });
      assert.deepEqual(sorted(ids(f, changed.rows)), sorted([serializeKey(['4']), serializeKey(['13'])]));
    });
  });
}
