// A small JSON REST API on 127.0.0.1 (node:http) for the HTTP connector's
// tests, with faults programmable per request. Collections live in memory:
//   GET    /:collection          records at data.items, sorted by (updated_at, id);
//                                 ?updated_since= (inclusive), paging by page/per_page,
//                                 offset/limit or cursor/limit; the next page as
//                                 meta.next_cursor, meta.next_url and a Link header
//   POST   /:collection          creates (id assigned), honours Idempotency-Key
//   PUT|PATCH|DELETE /:collection/:id
//   POST   /:collection/batch    { records: [...] } -> { results: [{ id, status } | { status, error }] }
// A record named 'REJECT ME' is refused with 422. Faults (5xx, reset, a
// disconnect without a response, a slow reply, 429/503 with Retry-After,
// malformed JSON) are queued with inject() and served to the next matching
// requests, or chosen per request by decide().
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { type: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** TCP reset (ECONNRESET) */
  | { type: 'reset' }
  /** the socket closed without a response ("other side closed") */
  | { type: 'disconnect' }
  /** the normal reply, after this long (past the client's timeout) */
  | { type: 'slow'; ms: number }
  /** 200 with a body that is not JSON */
  | { type: 'malformed' };

export interface FaultRule {
  method?: string;
  /** a path prefix, e.g. '/items' */
  path?: string;
  fault: Fault;
  /** how many matching requests get it; default 1 */
  times?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  /** the status sent, or the fault served */
  outcome: string;
}

type Item = Record<string, unknown> & { id: string };

export interface FaultServer {
  url: string;
  log: LoggedRequest[];
  /** collection -> id -> record */
  collections: Map<string, Map<string, Item>>;
  items(collection: string): Item[];
  put(collection: string, records: Record<string, unknown>[]): void;
  inject(rule: FaultRule): void;
  /** asked for a fault when no injected rule matches: faults by rate or per record */
  decide?: (request: { method: string; path: string; body: string }) => Fault | undefined;
  /** headers every request must carry (else 401), e.g. a secret API key */
  requireHeaders: Record<string, string>;
  /** each write waits this long before replying (to observe requests in flight) */
  writeLatencyMs: number;
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

const sortKey = (a: Item, b: Item) => {
  const ua = String(a.updated_at ?? '');
  const ub = String(b.updated_at ?? '');
  if (ua !== ub) return ua < ub ? -1 : 1;
  return Number(a.id) - Number(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
};

export async function startFaultServer(): Promise<FaultServer> {
  const rules: (FaultRule & { left: number })[] = [];
  const idempotent = new Map<string, { status: number; body: string }>();
  let nextId = 1;
  const sockets = new Set<import('node:net').Socket>();

  const state: FaultServer = {
    url: '',
    log: [],
    collections: new Map(),
    requireHeaders: {},
    writeLatencyMs: 0,
    inFlight: 0,
    maxInFlight: 0,
    items: (c) => [...(state.collections.get(c)?.values() ?? [])].sort(sortKey),
    put(collection, records) {
      const map = state.collections.get(collection) ?? new Map<string, Item>();
      state.collections.set(collection, map);
      for (const r of records) {
        const id = String(r.id ?? nextId++);
        map.set(id, { ...r, id } as Item);
      }
    },
    inject: (rule) => void rules.push({ ...rule, left: rule.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const collection = (name: string) => {
    const map = state.collections.get(name) ?? new Map<string, Item>();
    state.collections.set(name, map);
    return map;
  };

  function handle(req: http.IncomingMessage, body: string, url: URL): { status: number; body: unknown; headers?: Record<string, string> } {
    for (const [name, value] of Object.entries(state.requireHeaders)) {
      if (req.headers[name.toLowerCase()] !== value) return { status: 401, body: { error: `missing or wrong ${name}` } };
    }
    const [, name, id] = url.pathname.split('/');
    if (!name) return { status: 404, body: { error: 'no collection' } };
    const items = collection(name);
    const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    const refused = (r: Record<string, unknown>) => r.name === 'REJECT ME' || typeof r.name !== 'string';
    if (req.method === 'GET' && !id) {
      let all = state.items(name);
      const since = url.searchParams.get('updated_since');
      if (since !== null) all = all.filter((r) => String(r.updated_at) >= since);
      const q = url.searchParams;
      const size = Number(q.get('per_page') ?? q.get('limit') ?? 50);
      const start = q.has('page') ? (Number(q.get('page')) - 1) * size : q.has('offset') ? Number(q.get('offset')) : q.has('cursor') ? Number(Buffer.from(q.get('cursor') ?? '', 'base64url').toString()) : 0;
      const page = all.slice(start, start + size);
      const more = start + size < all.length;
      const cursor = Buffer.from(String(start + size)).toString('base64url');
      const nextUrl = new URL(url);
      for (const p of ['page', 'offset']) nextUrl.searchParams.delete(p);
      nextUrl.searchParams.set('cursor', cursor);
      return {
        status: 200,
        body: { data: { items: page }, meta: { total: all.length, next_cursor: more ? cursor : null, next_url: more ? nextUrl.toString() : null } },
        ...(more ? { headers: { link: `<${nextUrl.toString()}>; rel="next"` } } : {}),
      };
    }
    if (req.method === 'GET') return items.has(id as string) ? { status: 200, body: items.get(id as string) } : { status: 404, body: { error: 'not found' } };
    if (req.method === 'POST' && id === 'batch') {
      const results = ((input.records as Record<string, unknown>[]) ?? []).map((r) => {
        if (refused(r)) return { status: 422, error: 'name is refused' };
        const rid = r.id !== undefined && items.has(String(r.id)) ? String(r.id) : String(nextId++);
        items.set(rid, { ...r, id: rid });
        return { status: 200, id: rid };
      });
      return { status: 200, body: { results } };
    }
    if (req.method === 'POST' && !id) {
      if (refused(input)) return { status: 422, body: { error: 'name is refused', field: 'name' } };
      const rid = String(nextId++);
      const item = { ...input, id: rid };
      items.set(rid, item);
      return { status: 201, body: item };
    }
    if ((req.method === 'PUT' || req.method === 'PATCH') && id) {
      const old = items.get(id);
      if (!old) return { status: 404, body: { error: 'not found' } };
      if (refused({ ...(req.method === 'PATCH' ? old : {}), ...input })) return { status: 422, body: { error: 'name is refused' } };
      const item = { ...(req.method === 'PATCH' ? old : {}), ...input, id };
      items.set(id, item);
      return { status: 200, body: item };
    }
    if (req.method === 'DELETE' && id) {
      return items.delete(id) ? { status: 204, body: undefined } : { status: 404, body: { error: 'not found' } };
    }
    return { status: 405, body: { error: 'method not allowed' } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', state.url);
      const entry: LoggedRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, at: Date.now(), outcome: '' };
      state.log.push(entry);
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      let finished = false;
      const done = () => {
        if (!finished) state.inFlight -= 1;
        finished = true;
      };
      res.on('close', done);

      const rule = rules.find((r) => r.left > 0 && (!r.method || r.method === req.method) && (!r.path || url.pathname.startsWith(r.path)));
      if (rule) rule.left -= 1;
      const fault = rule?.fault ?? state.decide?.({ method: req.method ?? '', path: url.pathname, body });
      if (fault?.type === 'reset') {
        entry.outcome = 'reset';
        req.socket.resetAndDestroy();
        return done();
      }
      if (fault?.type === 'disconnect') {
        entry.outcome = 'disconnect';
        req.socket.destroy();
        return done();
      }
      if (fault?.type === 'status') {
        entry.outcome = String(fault.status);
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
        return res.end(fault.body ?? JSON.stringify({ error: 'injected' }));
      }
      if (fault?.type === 'malformed') {
        entry.outcome = 'malformed';
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"data": {"items": [ {"id": 1, "name": "cut her');
      }

      // The request is applied at once and only the reply is late (a slow network, not a slow server):
      // a retry after the client's timeout then finds its idempotency key stored.
      const key = req.headers['idempotency-key'];
      const replayKey = typeof key === 'string' && req.method === 'POST' ? `${url.pathname}:${key}` : undefined;
      let out: { status: number; body: string; headers?: Record<string, string> };
      const seen = replayKey ? idempotent.get(replayKey) : undefined;
      if (seen) out = seen;
      else {
        const r = handle(req, body, url);
        out = { status: r.status, body: r.body === undefined ? '' : JSON.stringify(r.body), ...(r.headers ? { headers: r.headers } : {}) };
        if (replayKey && out.status < 500) idempotent.set(replayKey, { status: out.status, body: out.body });
      }
      entry.outcome = seen ? `${out.status} (replayed)` : String(out.status);
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
        res.end(out.body);
      };
      const wait = (fault?.type === 'slow' ? fault.ms : 0) + (req.method !== 'GET' ? state.writeLatencyMs : 0);
      if (wait > 0) setTimeout(reply, wait);
      else reply();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
