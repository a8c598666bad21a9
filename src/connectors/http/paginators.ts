import { ConfigurationError } from '../../core/errors.js';
import { atPath } from './json-path.js';
import type { HttpReply } from './request.js';

/**
 * How an API hands out pages (the Singer SDK's paginators, declared):
 * - `page`: a page number parameter (`?page=2&per_page=100`), from `first` (default 1);
 * - `offset`: an offset parameter (`?offset=200&limit=100`);
 * - `token`: a next-page token at `path` in the body, sent back as `param`;
 * - `nextUrl`: the next page's URL at `path` in the body;
 * - `link`: the next page's URL in the `Link` header (rel="next", RFC 8288).
 * `sizeParam` names the page-size parameter; the stream's batch size is sent
 * in it. Without one, a page-number or offset API ends at an empty page.
 */
export type Pagination =
  | { type: 'page'; param?: string; sizeParam?: string; first?: number }
  | { type: 'offset'; param?: string; sizeParam?: string }
  | { type: 'token'; path: string; param: string; sizeParam?: string }
  | { type: 'nextUrl'; path: string; sizeParam?: string }
  | { type: 'link'; sizeParam?: string };

/**
 * The next request of a pass, as stored in the cursor (JSON, no secrets):
 * query parameters to set on the declared path, or a whole URL the server gave.
 */
export interface PageRequest {
  query?: Record<string, string>;
  url?: string;
}

const TYPES = ['page', 'offset', 'token', 'nextUrl', 'link'] as const;

export function checkPagination(p: Pagination | undefined, what: string): void {
  if (p === undefined) return;
  if (!TYPES.includes(p.type)) throw new ConfigurationError(`${what}: field "pagination.type": must be one of ${TYPES.join(', ')}`);
  if ((p.type === 'token' || p.type === 'nextUrl') && !p.path) throw new ConfigurationError(`${what}: field "pagination.path": a ${p.type} paginator needs the body path of the next ${p.type === 'token' ? 'token' : 'URL'}`);
  if (p.type === 'token' && !p.param) throw new ConfigurationError(`${what}: field "pagination.param": a token paginator needs the query parameter the token is sent in`);
}

/** The query parameters of a pass's first request. */
export function firstPageQuery(p: Pagination | undefined, size: number): Record<string, string> {
  const query: Record<string, string> = {};
  if (!p) return query;
  if (p.sizeParam) query[p.sizeParam] = String(size);
  if (p.type === 'page') query[p.param ?? 'page'] = String(p.first ?? 1);
  if (p.type === 'offset') query[p.param ?? 'offset'] = '0';
  return query;
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(m[2] ?? '')) return new URL(m[1] as string, base).toString();
  }
  return undefined;
}

export interface PageReply {
  reply: HttpReply;
  body: unknown;
  /** the URL requested (no secrets), for resolving relative links */
  url: string;
  /** the query of the page just read (page number, offset) */
  query: Record<string, string>;
  count: number;
  size: number;
}

/** The request after this page, or null when it was the last. */
export function nextPage(p: Pagination | undefined, page: PageReply): PageRequest | null {
  if (!p) return null;
  const full = p.sizeParam ? page.count >= page.size : page.count > 0;
  switch (p.type) {
    case 'page': {
      const param = p.param ?? 'page';
      return full ? { query: { [param]: String(Number(page.query[param] ?? p.first ?? 1) + 1) } } : null;
    }
    case 'offset': {
      const param = p.param ?? 'offset';
      return full ? { query: { [param]: String(Number(page.query[param] ?? 0) + page.count) } } : null;
    }
    case 'token': {
      const token = atPath(page.body, p.path);
      return token === undefined || token === null || token === '' ? null : { query: { [p.param]: String(token) } };
    }
    case 'nextUrl': {
      const url = atPath(page.body, p.path);
      return typeof url === 'string' && url !== '' ? { url: new URL(url, page.url).toString() } : null;
    }
    case 'link': {
      const url = nextLink(page.reply.headers.get('link'), page.url);
      return url ? { url } : null;
    }
  }
}
