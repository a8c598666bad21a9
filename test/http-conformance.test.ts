// The HTTP source and target against the shared conformance suites
// (test/conformance/*), over the fault-injecting REST server with no faults
// injected: every paginator (page number, offset, next token, next URL in the
// body, Link header), the parse hook, incremental by updated_since with ties;
// a target writing one record per request (hard and soft delete) and one
// writing through a batch endpoint. The source suite also runs against
// json-server; its target suite cannot (json-server ignores Idempotency-Key,
// so a create sent twice is created twice).
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { httpSource, type HttpSourceOptions } from '../src/connectors/http/source.js';
import { httpTarget, type HttpTargetOptions } from '../src/connectors/http/target.js';
import type { RawRow } from '../src/core/types.js';
import { registerSourceSuite, type SeedRecord } from './conformance/source-suite.js';
import { registerTargetSuite } from './conformance/target-suite.js';
import { startFaultServer, type FaultServer } from './support/http-fault-server.js';
import { startJsonServer, type JsonServer } from './support/json-server.js';

let server: Promise<FaultServer> | undefined;
const api = () => (server ??= startFaultServer());
after(async () => {
  if (server) await (await server).close();
});

const collection = (base: string) => `${base}_${randomBytes(3).toString('hex')}`;
/** a tick is a second: equal ticks are equal updated_at values */
const at = (tick: number) => new Date(Date.UTC(2026, 0, 1) + tick * 1000).toISOString();

function sourceFactory(options: (path: string) => Omit<HttpSourceOptions, 'baseUrl' | 'system' | 'path'>) {
  return {
    async create() {
      const s = await api();
      const name = collection('src');
      const source = httpSource({ baseUrl: s.url, system: 'crm', path: `/${name}`, ...options(`/${name}`) });
      return {
        source,
        key: ['id'],
        async seed(records: readonly SeedRecord[]) {
          s.put(name, records.map((r) => ({ id: r.id, name: r.name, updated_at: at(r.tick) })));
        },
        async close() {
          s.collections.delete(name);
        },
      };
    },
  };
}

const incremental = { param: 'updated_since', field: 'updated_at' };
registerSourceSuite('http, page number, updated_since', sourceFactory(() => ({ records: 'data.items', pagination: { type: 'page', sizeParam: 'per_page' }, incremental })));
registerSourceSuite('http, offset, snapshot', sourceFactory(() => ({ records: 'data.items', pagination: { type: 'offset', sizeParam: 'limit' } })));
registerSourceSuite('http, next token in the body, updated_since', sourceFactory(() => ({ records: 'data.items', pagination: { type: 'token', path: 'meta.next_cursor', param: 'cursor', sizeParam: 'limit' }, incremental })));
registerSourceSuite('http, next URL in the body', sourceFactory(() => ({ records: 'data.items', pagination: { type: 'nextUrl', path: 'meta.next_url', sizeParam: 'limit' } })));
registerSourceSuite('http, Link header, updated_since', sourceFactory(() => ({ records: 'data.items', pagination: { type: 'link', sizeParam: 'limit' }, incremental })));
registerSourceSuite(
  'http, parse hook',
  sourceFactory(() => ({
    // the first request's page size; then an "odd" API: the hook reads the records and builds the next request itself
    pagination: { type: 'token', path: 'unused', param: 'unused', sizeParam: 'limit' },
    parse: ({ body, size }) => {
      const b = body as { data: { items: RawRow[] }; meta: { next_cursor: string | null } };
      const next = b.meta.next_cursor;
      return { records: b.data.items, next: next ? { query: { cursor: next, limit: String(size) } } : null };
    },
    incremental,
  })),
);

function targetFactory(options: (path: string) => Omit<HttpTargetOptions, 'baseUrl' | 'system'>, archived = false) {
  return {
    async create() {
      const s = await api();
      const name = collection('dst');
      const target = httpTarget({ baseUrl: s.url, system: 'app', ...options(`/${name}`) });
      return {
        target,
        projection: (id: number, value: string) => ({ kind: 'record', fields: { record_id: id, name: value } }),
        rejectable: (id: number) => ({ kind: 'record', fields: { record_id: id, name: 'REJECT ME' } }),
        async read() {
          return new Map(s.items(name).filter((r) => !(archived && r.archived === true)).map((r) => [Number(r.record_id), String(r.name)]));
        },
        async close() {
          s.collections.delete(name);
        },
      };
    },
  };
}

registerTargetSuite('http, one record per request, hard delete', targetFactory((path) => ({ create: { path }, concurrency: 3 })));
registerTargetSuite('http, soft delete (PATCH archived)', targetFactory((path) => ({ create: { path }, delete: { method: 'PATCH', body: { archived: true } } }), true));
registerTargetSuite('http, batch endpoint', targetFactory((path) => ({ create: { path }, batch: { path: `${path}/batch`, limit: 7, itemsField: 'records', resultsPath: 'results' } })));

// The source suite against json-server (an independent peer): its own sort,
// `updated_at_gte` filter, `_page`/`_limit` paging and Link header.
const COLLECTIONS = Array.from({ length: 16 }, (_, i) => `conf${i}`);
let peer: Promise<JsonServer> | undefined;
let handedOut = 0;
after(async () => {
  if (peer) await (await peer).stop();
});

function jsonServerSourceFactory(options: Omit<HttpSourceOptions, 'baseUrl' | 'system' | 'path'>) {
  return {
    async create() {
      const js = await (peer ??= startJsonServer(Object.fromEntries(COLLECTIONS.map((c) => [c, []]))));
      const name = COLLECTIONS[handedOut++ % COLLECTIONS.length] as string;
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${js.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) }).then((r) => {
          if (!r.ok) throw new Error(`json-server ${method} ${path}: ${r.status}`);
        });
      for (const r of await js.all(name)) await send('DELETE', `/${name}/${String(r.id)}`);
      const source = httpSource({ baseUrl: js.url, system: 'crm', path: `/${name}`, ...options });
      return {
        source,
        key: ['id'],
        async seed(records: readonly SeedRecord[]) {
          const known = new Set((await js.all(name)).map((r) => Number(r.id)));
          for (const r of records) {
            const record = { id: r.id, name: r.name, updated_at: at(r.tick) };
            await (known.has(r.id) ? send('PUT', `/${name}/${r.id}`, record) : send('POST', `/${name}`, record));
          }
        },
        async close() {
          await source.close();
        },
      };
    },
  };
}

registerSourceSuite(
  'json-server, _page/_limit, updated_at_gte',
  jsonServerSourceFactory({ query: { _sort: 'updated_at,id' }, pagination: { type: 'page', param: '_page', sizeParam: '_limit' }, incremental: { param: 'updated_at_gte', field: 'updated_at' } }),
);
registerSourceSuite('json-server, Link header', jsonServerSourceFactory({ query: { _sort: 'id', _page: 1 }, pagination: { type: 'link', sizeParam: '_limit' } }));
