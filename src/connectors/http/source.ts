import { ConfigurationError } from '../../core/errors.js';
import type { Cursor, RawRow } from '../../core/types.js';
import { TransientError } from '../errors.js';
import type { FetchRequest, Source, SourceCapabilities, SourcePage, SourceShape } from '../source.js';
import { advance, checkIncremental, lagOf, rewound, type HttpIncremental, type SinceMark } from './incremental.js';
import { atPath } from './json-path.js';
import { checkPagination, firstPageQuery, nextPage, type PageRequest, type Pagination } from './paginators.js';
import { HttpClient, statusFailure, type HttpConnection, type HttpReply } from './request.js';
import { ConcurrencyLimit } from './concurrency.js';

/** One response, as the `parse` hook sees it. */
export interface HttpResponseView {
  stream: string;
  status: number;
  headers: Headers;
  /** the parsed JSON body */
  body: unknown;
  /** the URL requested, without secrets */
  url: string;
  /** the request this page came from (null: the first of a pass) */
  request: PageRequest | null;
  /** the page size asked for */
  size: number;
}

/** For what the declarative form cannot express: one response -> its records and the next request (null: the last page). */
export type HttpResponseHook = (response: HttpResponseView) => { records: RawRow[]; next: PageRequest | null };

export interface HttpSourceOptions extends HttpConnection {
  /** the system the records come from: 'crm', '1c' */
  system: string;
  /** '/customers', under baseUrl */
  path: string;
  /** static query parameters (filters, a sort order) */
  query?: Record<string, string | number | boolean>;
  /** where the records sit in the JSON body ('data.items'); default: the body is the array */
  records?: string;
  /** default: one request per pass */
  pagination?: Pagination;
  /** default none: every run is a complete pass */
  incremental?: HttpIncremental;
  /**
   * For an odd API: turns each response into its records and the next
   * request, instead of `records` and the paginator (whose `sizeParam` and
   * first-page parameters still shape the first request).
   */
  parse?: HttpResponseHook;
  /**
   * How to GET one record by its key (a linked pair reads the side it is about
   * to write, to find conflicts): the path under baseUrl for the key parts, and
   * where the record sits in the body (default: the body). 404: no such record.
   * E.g. 1C OData: `{ path: ([ref]) => \`Catalog_Контрагенты(guid'${ref}')?$format=json\` }`.
   */
  readOne?: { path: (key: readonly string[]) => string; record?: string };
}

/**
 * The HTTP source's checkpoint: the next request of the pass (null: start
 * one), the incremental mark, and the page number within the pass (for
 * messages). Private to this folder.
 */
interface HttpCursor extends SinceMark {
  next: PageRequest | null;
  page: number;
}

function asHttpCursor(c: Cursor | null, stream: string): HttpCursor {
  if (c === null) return { next: null, since: null, seen: [], page: 1 };
  const o = c as Partial<HttpCursor> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !('next' in o) || typeof o.page !== 'number') {
    throw new ConfigurationError(`stream "${stream}": checkpoint ${JSON.stringify(c)} was not written by an http source`, `reset it: ferry reset ${stream}`);
  }
  return { next: o.next ?? null, since: o.since ?? null, seen: Array.isArray(o.seen) ? o.seen : [], page: o.page };
}

/**
 * Reads a JSON HTTP API page by page. Declarative for the common cases
 * (records path, paginator, `updated_since` parameter); a `parse` hook for
 * the rest. The cursor holds no secrets: secret query parameters are added
 * at request time and stripped from next-page URLs the server returns.
 */
class HttpSource implements Source {
  readonly system: string;
  readonly capabilities: SourceCapabilities;
  readonly versionField: string | undefined;
  private readonly client: HttpClient;

  constructor(private readonly options: HttpSourceOptions) {
    const what = `httpSource({ path: ${JSON.stringify(options.path)} })`;
    this.system = options.system;
    this.client = new HttpClient(options, what);
    checkPagination(options.pagination, what);
    checkIncremental(options.incremental, what);
    if (options.parse !== undefined && typeof options.parse !== 'function') throw new ConfigurationError(`${what}: field "parse": must be a function`);
    const incremental = options.incremental !== undefined;
    this.capabilities = { incremental, snapshot: true, lookBack: incremental && options.incremental?.lookBack !== undefined };
    this.versionField = options.incremental?.field;
    if (options.readOne !== undefined && typeof options.readOne?.path !== 'function') throw new ConfigurationError(`${what}: field "readOne.path": must be a function of the key parts`);
    // Declared only with readOne, so a linked pair knows whether this side can be read by key.
    if (options.readOne) this.read = (shape, keys) => this.readByKeys(shape, keys);
  }

  read?: (shape: SourceShape, keys: readonly (readonly string[])[]) => Promise<RawRow[]>;

  async check(_shape: SourceShape): Promise<void> {
    this.client.checkSecrets();
  }

  lag(checkpoint: Cursor, now: Date): number | null {
    if (!this.options.incremental) return null;
    return lagOf((checkpoint as { since?: unknown } | null)?.since, now);
  }

  async fetch(request: FetchRequest): Promise<SourcePage> {
    const { stream, key } = request.shape;
    const inc = this.options.incremental;
    let cursor = asHttpCursor(request.after, stream);
    if (request.rewind && inc?.lookBack !== undefined) cursor = { ...cursor, ...rewound(cursor, inc.lookBack), next: null, page: 1 };

    const size = request.limit;
    const pageQuery = { ...firstPageQuery(this.options.pagination, size), ...(cursor.next?.query ?? {}) };
    const url = cursor.next?.url
      ? new URL(cursor.next.url)
      : this.client.url(this.options.path, { ...(this.options.query ?? {}), ...(inc && cursor.since !== null ? { [inc.param]: cursor.since } : {}), ...pageQuery });
    const where = `stream "${stream}": page ${cursor.page}`;
    const reply = await this.client.send({ method: 'GET', url });
    const failure = statusFailure(reply, where);
    if (failure) throw failure;
    if (reply.status >= 400) throw new ConfigurationError(`${where}: ${reply.shown}: HTTP ${reply.status}`, 'check the path and query parameters of the source');
    const body = parseBody(reply, where);

    let records: RawRow[];
    let next: PageRequest | null;
    const shownUrl = this.client.shown(url);
    if (this.options.parse) {
      ({ records, next } = this.options.parse({ stream, status: reply.status, headers: reply.headers, body, url: shownUrl, request: cursor.next, size }));
      if (!Array.isArray(records)) throw new ConfigurationError(`${where}: ${reply.shown}: the parse hook returned no records array`);
    } else {
      records = selectRecords(body, this.options.records, reply, where);
      next = nextPage(this.options.pagination, { reply, body, url: shownUrl, query: Object.fromEntries(url.searchParams), count: records.length, size });
    }
    // a server may echo secret query parameters into its next-page links: never store them
    if (next?.url) next = { ...next, url: this.client.shown(next.url) };

    if (!inc) {
      const out: HttpCursor | null = next ? { next, since: null, seen: [], page: cursor.page + 1 } : null;
      return { rows: records, next: out as unknown as Cursor, done: next === null };
    }
    const step = advance(cursor, records, inc.field, key);
    // Past the mark: a fresh query from the new mark (keyset, robust to changes between pages); still on it: page on.
    const following: PageRequest | null = next === null ? null : step.moved ? null : next;
    const out: HttpCursor = { next: following, ...step.mark, page: next === null ? 1 : cursor.page + 1 };
    return { rows: step.rows, next: out as unknown as Cursor, done: next === null };
  }

  /** One GET per key, a few at a time (linked pairs: the conflict check); only with `readOne`. */
  async readByKeys(shape: SourceShape, keys: readonly (readonly string[])[]): Promise<RawRow[]> {
    const readOne = this.options.readOne;
    if (!readOne) return [];
    const limit = new ConcurrencyLimit(4);
    const rows = await Promise.all(
      keys.map((key) =>
        limit.run(async () => {
          const where = `stream "${shape.stream}": reading one record`;
          const reply = await this.client.send({ method: 'GET', url: this.client.url(readOne.path(key)) });
          if (reply.status === 404) return undefined;
          const failure = statusFailure(reply, where);
          if (failure) throw failure;
          if (reply.status >= 400) throw new ConfigurationError(`${where}: ${reply.shown}: HTTP ${reply.status}`, 'check readOne.path of the source');
          const record = atPath(parseBody(reply, where), readOne.record);
          if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new ConfigurationError(`${where}: ${reply.shown}: no record object at ${readOne.record ?? 'the top of the body'}`);
          return record as RawRow;
        }),
      ),
    );
    return rows.filter((r): r is RawRow => r !== undefined);
  }

  async close(): Promise<void> {
    // fetch keeps no per-source resources
  }
}

function parseBody(reply: HttpReply, where: string): unknown {
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    // Transient: a proxy's error page or a cut reply usually passes; the parser's message is left out (it quotes the body).
    throw new TransientError(`${where}: ${reply.shown}: the response is not valid JSON (HTTP ${reply.status}, ${reply.text.length} characters, content-type ${reply.headers.get('content-type') ?? 'none'})`);
  }
}

function selectRecords(body: unknown, path: string | undefined, reply: HttpReply, where: string): RawRow[] {
  const records = atPath(body, path);
  if (!Array.isArray(records)) {
    throw new ConfigurationError(
      `${where}: ${reply.shown}: no records array at ${path ? `"${path}"` : 'the top of the body'} (found ${records === undefined ? 'nothing' : Array.isArray(records) ? 'an array' : typeof records})`,
      'set the source\'s "records" to the path of the array in the response, e.g. records: \'data.items\'',
    );
  }
  const odd = records.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r));
  if (odd >= 0) throw new ConfigurationError(`${where}: ${reply.shown}: record ${odd} at ${path ? `"${path}"` : 'the top of the body'} is not an object`, 'point "records" at the array of record objects');
  return records as RawRow[];
}

export function httpSource(options: HttpSourceOptions): Source {
  return new HttpSource(options);
}
