// A fake 1C:Enterprise base over HTTP, as the customers-1c example's ERP
// (what a real base offers: /work/shared/1C-ODATA-NOTES.md):
//
//   /<base>/odata/standard.odata/Catalog_Контрагенты               GET ($top, $skip, $filter), POST
//   /<base>/odata/standard.odata/Catalog_Контрагенты(guid'<ref>')  GET, PATCH, DELETE
//       the standard OData interface: what managers' tools use; every write is
//       registered as a change for the site's node
//   /<base>/hs/site/customers/<site id>       PUT: the site's exchange, one customer
//   /<base>/hs/site/customers/batch           POST { items: [...] } -> { results: [...] }
//       the site's exchange service: upserts by ИдентификаторНаСайте (see catalog.ts)
//   /<base>/hs/site/changes?since=&limit=&pageToken=
//       changes registered for the site's node, oldest first; nextPageToken while more
//   /admin/faults (POST a FaultPlan), /admin/stats (GET): for tests, never faulted
//
// Errors are OData errors: {"odata.error": {"code", "message": {"lang": "ru", "value"}}}.
//   npx tsx examples/customers-1c/onec/service.ts [port]   runs one on its own
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CounterpartyCatalog, OnecError } from './catalog.js';
import { Faults, type FaultPlan } from './faults.js';
import type { OnecCustomer, OnecCustomerFields } from './shape.js';

export interface OnecServiceOptions {
  /** 0: any free port */
  port?: number;
  /** the infobase's publication name in URLs; default 'trade' */
  base?: string;
  /** 1C users allowed in (HTTP Basic); default: no authentication */
  users?: Record<string, string>;
  faults?: FaultPlan;
}

const CATALOG = 'Catalog_Контрагенты';
const MAX_PAGE = 1_000;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Request counts by outcome, for tests and /admin/stats. */
export interface OnecStats {
  requests: number;
  byStatus: Record<string, number>;
  faults: Faults['served'];
  customers: number;
  created: number;
}

export class OnecService {
  readonly catalog = new CounterpartyCatalog();
  readonly faults: Faults;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly base: string;
  private requests = 0;
  private readonly byStatus: Record<string, number> = {};
  url = '';

  constructor(private readonly options: OnecServiceOptions = {}) {
    this.faults = new Faults(options.faults);
    this.base = `/${options.base ?? 'trade'}`;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Where the OData interface is, e.g. http://127.0.0.1:8080/trade/odata/standard.odata */
  get odataUrl(): string {
    return `${this.url}${this.base}/odata/standard.odata`;
  }

  /** Where the site's HTTP service is, e.g. http://127.0.0.1:8080/trade/hs/site */
  get siteServiceUrl(): string {
    return `${this.url}${this.base}/hs/site`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  stats(): OnecStats {
    return { requests: this.requests, byStatus: { ...this.byStatus }, faults: { ...this.faults.served }, customers: this.catalog.list().length, created: this.catalog.created };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://1c.local');
    const path = decodeURIComponent(url.pathname);
    const { fault, delayMs } = this.faults.draw(path);
    if (!path.startsWith('/admin')) this.requests += 1;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (delayMs > 0) await sleep(delayMs);
    let reply: Reply;
    if (fault === 'down') {
      reply = { status: 503, body: 'Информационная база недоступна: выполняется обновление конфигурации', headers: { 'content-type': 'text/html; charset=utf-8' } };
    } else if (fault === 'serverError') {
      reply = errorReply(new OnecError(500, 'LockTimeout', 'Конфликт блокировок при выполнении транзакции: Превышено максимальное время ожидания предоставления блокировки'));
    } else if (fault === 'tooManyRequests') {
      reply = { ...errorReply(new OnecError(429, 'TooManyRequests', 'Превышено число одновременных сеансов для пользователя')), headers: { 'retry-after': String(this.faults.retryAfterSeconds) } };
    } else {
      try {
        reply = await this.route(req, url, path);
      } catch (err) {
        reply = err instanceof OnecError ? errorReply(err) : errorReply(new OnecError(500, 'Internal', `Ошибка при выполнении запроса: ${err instanceof Error ? err.message : String(err)}`));
      }
      // carried out, committed, and the reply never arrives
      if (fault === 'lostReply') {
        req.socket.destroy();
        return;
      }
    }
    this.byStatus[reply.status] = (this.byStatus[reply.status] ?? 0) + 1;
    const text = typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...(typeof reply.body === 'string' ? {} : { 'content-type': 'application/json;charset=utf-8' }), ...(reply.headers ?? {}) });
    res.end(text);
  }

  private async route(req: http.IncomingMessage, url: URL, path: string): Promise<Reply> {
    const method = req.method ?? 'GET';
    if (path === '/admin/stats' && method === 'GET') return { status: 200, body: this.stats() };
    if (path === '/admin/faults' && method === 'POST') {
      const plan = (await readJson(req)) as FaultPlan;
      try {
        this.faults.set(plan);
      } catch (err) {
        throw new OnecError(400, 'BadFaults', err instanceof Error ? err.message : String(err));
      }
      return { status: 200, body: this.faults.current };
    }
    this.authenticate(req);

    const odata = `${this.base}/odata/standard.odata/`;
    if (path.startsWith(odata)) return this.odata(method, path.slice(odata.length), url, req);
    const hs = `${this.base}/hs/site/`;
    if (path.startsWith(hs)) return this.siteService(method, path.slice(hs.length), url, req);
    throw new OnecError(404, 'NotFound', `Не найден ресурс ${path}`);
  }

  private authenticate(req: http.IncomingMessage): void {
    const users = this.options.users;
    if (!users) return;
    const header = req.headers.authorization ?? '';
    const [user, ...rest] = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8').split(':') : [];
    if (user === undefined || users[user] === undefined || users[user] !== rest.join(':')) {
      throw new OnecError(401, 'Unauthorized', 'Ошибка аутентификации: неверное имя пользователя или пароль');
    }
  }

  // ------------------------------------------------------------------ OData

  private async odata(method: string, resource: string, url: URL, req: http.IncomingMessage): Promise<Reply> {
    const metadata = `${this.odataUrl}/$metadata#${CATALOG}`;
    if (resource === CATALOG) {
      if (method === 'GET') {
        const top = Math.min(numberParam(url, '$top') ?? MAX_PAGE, MAX_PAGE);
        const skip = numberParam(url, '$skip') ?? 0;
        const rows = this.catalog.list().filter(odataFilter(url.searchParams.get('$filter')));
        return { status: 200, body: { 'odata.metadata': metadata, value: rows.slice(skip, skip + top) } };
      }
      if (method === 'POST') {
        const object = this.catalog.create(fieldsOf(await readJson(req)), 'odata');
        return { status: 201, body: { 'odata.metadata': `${metadata}/@Element`, ...object } };
      }
      throw new OnecError(405, 'MethodNotAllowed', `Метод ${method} не поддерживается для ${CATALOG}`);
    }
    const one = /^Catalog_Контрагенты\(guid'([0-9a-f-]{36})'\)$/.exec(resource);
    if (!one) throw new OnecError(404, 'NotFound', `Не найден ресурс ${resource}`);
    const ref = one[1] as string;
    if (method === 'GET') {
      const object = this.catalog.get(ref);
      if (!object) throw new OnecError(404, 'NotFound', `Объект не найден: ${resource}`);
      return { status: 200, body: { 'odata.metadata': `${metadata}/@Element`, ...object } };
    }
    if (method === 'PATCH') return { status: 200, body: { 'odata.metadata': `${metadata}/@Element`, ...this.catalog.update(ref, fieldsOf(await readJson(req)), 'odata') } };
    if (method === 'DELETE') {
      if (!this.catalog.delete(ref)) throw new OnecError(404, 'NotFound', `Объект не найден: ${resource}`);
      return { status: 204 };
    }
    throw new OnecError(405, 'MethodNotAllowed', `Метод ${method} не поддерживается`);
  }

  // ------------------------------------------------------------------ the site's HTTP service

  private async siteService(method: string, resource: string, url: URL, req: http.IncomingMessage): Promise<Reply> {
    if (resource === 'changes' && method === 'GET') return this.changes(url);
    if (resource === 'customers/batch' && method === 'POST') {
      const body = (await readJson(req)) as { items?: unknown };
      if (!Array.isArray(body?.items)) throw new OnecError(400, 'BadRequest', 'Ожидается {"items": [...]}');
      // each item on its own, as 1C writes each object in its own transaction: one bad item refuses only itself
      const results = body.items.map((item: unknown) => {
        try {
          const { siteId, ref, fields } = siteItem(item);
          const { object, created } = this.catalog.upsertFromSite(siteId, ref, fields);
          return { status: created ? 201 : 200, Ref_Key: object.Ref_Key, DataVersion: object.DataVersion };
        } catch (err) {
          if (!(err instanceof OnecError)) throw err;
          return { status: err.status, error: err.message, ...err.body() };
        }
      });
      return { status: 200, body: { results } };
    }
    const one = /^customers\/([^/]+)$/.exec(resource);
    if (one && method === 'PUT') {
      const { ref, fields } = siteItem({ ...((await readJson(req)) as object), ИдентификаторНаСайте: one[1] });
      const { object, created } = this.catalog.upsertFromSite(one[1] as string, ref, fields);
      return { status: created ? 201 : 200, body: object };
    }
    throw new OnecError(404, 'NotFound', `Метод ${method} /hs/site/${resource} не найден в HTTP-сервисе site`);
  }

  private changes(url: URL): Reply {
    const limit = Math.min(numberParam(url, 'limit') ?? 100, MAX_PAGE);
    const since = url.searchParams.get('since') ?? undefined;
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw new OnecError(400, 'BadRequest', `Параметр since: ожидается дата ISO 8601, получено "${since}"`);
    const token = url.searchParams.get('pageToken');
    const after = token ? decodeToken(token) : undefined;
    const { items, more } = this.catalog.changes(since, after, limit);
    const last = items[items.length - 1];
    return { status: 200, body: { items, nextPageToken: more && last ? encodeToken({ at: last.МоментИзменения, ref: last.Ref_Key }) : null } };
  }
}

function errorReply(err: OnecError): Reply {
  return { status: err.status, body: err.body(), ...(err.status === 401 ? { headers: { 'www-authenticate': 'Basic realm="1C:Enterprise"' } } : {}) };
}

function numberParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new OnecError(400, 'BadRequest', `Параметр ${name}: ожидается целое число, получено "${v}"`);
  return Number(v);
}

/** The few $filter forms this fake understands: `<field> eq '<text>'` and `DeletionMark eq true|false`, joined by `and`. */
function odataFilter(filter: string | null): (c: OnecCustomer) => boolean {
  if (!filter) return () => true;
  const tests = filter.split(/\s+and\s+/i).map((part) => {
    const m = /^\s*(ИдентификаторНаСайте|ИНН|Code|Description|DeletionMark)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false))\s*$/.exec(part);
    if (!m) throw new OnecError(400, 'BadFilter', `Неподдерживаемое условие $filter: ${part}`);
    const field = m[1] as 'ИдентификаторНаСайте' | 'ИНН' | 'Code' | 'Description' | 'DeletionMark';
    const value: string | boolean = m[3] !== undefined ? m[3] === 'true' : (m[2] as string).replace(/''/g, "'");
    return (c: OnecCustomer) => c[field] === value;
  });
  return (c) => tests.every((t) => t(c));
}

function siteItem(item: unknown): { siteId: string; ref: string | undefined; fields: Partial<OnecCustomerFields> } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new OnecError(400, 'BadRequest', 'Элемент должен быть объектом');
  const { Ref_Key: ref, ИдентификаторНаСайте: siteId, ...fields } = item as Record<string, unknown>;
  if (typeof siteId !== 'string' || siteId === '') throw new OnecError(400, 'FillCheck', 'Поле "ИдентификаторНаСайте" не заполнено');
  return { siteId, ref: typeof ref === 'string' && ref !== '' ? ref : undefined, fields: fields as Partial<OnecCustomerFields> };
}

/** A write's body: the object's writable fields (system properties a client sends along are ignored, as 1C does). */
function fieldsOf(body: unknown): Partial<OnecCustomerFields> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OnecError(400, 'BadRequest', 'Тело запроса должно быть объектом JSON');
  const { Ref_Key: _ref, DataVersion: _version, Code: _code, 'odata.metadata': _metadata, ...fields } = body as Record<string, unknown>;
  return fields as Partial<OnecCustomerFields>;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OnecError(400, 'BadRequest', 'Тело запроса не является корректным JSON');
  }
}

const encodeToken = (position: { at: string; ref: string }) => Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeToken(token: string): { at: string; ref: string } {
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { at?: unknown; ref?: unknown };
    if (typeof p.at === 'string' && typeof p.ref === 'string') return { at: p.at, ref: p.ref };
  } catch {
    // fall through
  }
  throw new OnecError(400, 'BadRequest', 'Неверный pageToken');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const service = await new OnecService({ port: Number(process.argv[2] ?? 8080) }).start();
  process.stdout.write(`fake 1C: OData at ${service.odataUrl}, the site's service at ${service.siteServiceUrl}\n`);
}
