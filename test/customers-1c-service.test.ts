// The customers-1c example's fake 1C over real HTTP (no Temporal): the OData
// catalog, the site's exchange service (upsert by the site's id: a retried
// packet creates nothing twice), the change feed and its page token, the ИНН
// check, authentication and every kind of injected fault — and ferry's own
// HTTP target and source against it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { httpSource, httpTarget, RecordRejectedError, TransientError, TransientWithDelayError } from '../src/index.js';
import type { TargetRow } from '../src/connectors/target.js';
import type { Cursor } from '../src/core/types.js';
import { siteUserToOnec } from '../examples/customers-1c/mapping/site-to-onec.js';
import type { SiteUser } from '../examples/customers-1c/mapping/site-user.js';
import { OnecService } from '../examples/customers-1c/onec/service.js';
import type { OnecCustomer } from '../examples/customers-1c/onec/shape.js';

const AUTH = `Basic ${Buffer.from('Обмен:секрет').toString('base64')}`;
const CATALOG = 'Catalog_Контрагенты';

const user = (id: number, taxId: string | null = null): SiteUser => ({
  id: String(id),
  email: `u${id}@example.ru`,
  first_name: 'Иван',
  last_name: `Петров${id}`,
  company_name: taxId ? `ООО «Ромашка ${id}»` : null,
  tax_id: taxId,
  kpp: null,
  phone: '+7 912 345 67 89',
  role: 'customer',
  birth_date: null,
  date_joined: '2024-05-01 09:30:00+00',
  is_active: true,
});

describe('customers-1c: the fake 1C service', () => {
  let onec: OnecService;
  const call = async (method: string, path: string, body?: unknown, auth = AUTH) => {
    const res = await fetch(`${onec.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const odata = (rest = '') => `/trade/odata/standard.odata/${CATALOG}${rest}`;

  before(async () => {
    onec = await new OnecService({ users: { Обмен: 'секрет' } }).start();
    process.env.ONEC_TEST_AUTH = Buffer.from('Обмен:секрет').toString('base64');
  });
  after(() => onec.close());
  beforeEach(() => onec.faults.set({}));

  it('refuses a request without the 1C user (401)', async () => {
    const r = await call('GET', odata(), undefined, 'Basic AAAA');
    assert.equal(r.status, 401);
    assert.match(JSON.stringify(r.body), /Ошибка аутентификации/);
  });

  it('OData: POST creates and returns Ref_Key, GET reads it, PATCH changes a field and DataVersion, $filter finds it, DELETE removes it', async () => {
    const created = await call('POST', odata('?$format=json'), { ...siteUserToOnec(user(1)), ИдентификаторНаСайте: '' });
    assert.equal(created.status, 201);
    const ref = created.body.Ref_Key as string;
    assert.match(ref, /^[0-9a-f-]{36}$/);
    assert.match(String(created.body.Code), /^\d{9}$/);
    const read = await call('GET', odata(`(guid'${ref}')?$format=json`));
    assert.equal(read.body.Description, 'Петров1 Иван');
    const patched = await call('PATCH', odata(`(guid'${ref}')`), { КатегорияКлиента: 'Дилер' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.КатегорияКлиента, 'Дилер');
    assert.equal(patched.body.Description, 'Петров1 Иван');
    assert.notEqual(patched.body.DataVersion, created.body.DataVersion);
    const found = await call('GET', odata(`?$format=json&$filter=Description eq 'Петров1 Иван' and DeletionMark eq false`));
    assert.deepEqual((found.body.value as OnecCustomer[]).map((c) => c.Ref_Key), [ref]);
    assert.match(String(found.body['odata.metadata']), /\$metadata#Catalog_Контрагенты$/);
    assert.equal((await call('DELETE', odata(`(guid'${ref}')`))).status, 204);
    assert.equal((await call('GET', odata(`(guid'${ref}')`))).status, 404);
  });

  it('OData: $top and $skip page the list; an unsupported $filter is a 400 OData error', async () => {
    for (let i = 0; i < 5; i += 1) await call('POST', odata(), { Description: `Клиент ${i}` });
    const all = (await call('GET', odata())).body.value as OnecCustomer[];
    const page = (await call('GET', odata('?$top=2&$skip=1'))).body.value as OnecCustomer[];
    assert.deepEqual(page.map((c) => c.Ref_Key), all.slice(1, 3).map((c) => c.Ref_Key));
    const bad = await call('GET', odata(`?$filter=substringof('x', Description)`));
    assert.equal(bad.status, 400);
    assert.equal((bad.body['odata.error'] as { message: { lang: string } }).message.lang, 'ru');
  });

  it('refuses an invalid ИНН with a 400 and 1C\'s message, creating nothing', async () => {
    const before = onec.catalog.list().length;
    const r = await call('POST', odata(), siteUserToOnec(user(2, '7707083894')));
    assert.equal(r.status, 400);
    const error = r.body['odata.error'] as { code: string; message: { value: string } };
    assert.match(error.message.value, /Поле "ИНН": Контрольное число ИНН не совпадает с рассчитанным: 7707083894/);
    assert.equal(onec.catalog.list().length, before);
  });

  it("the site's exchange: a packet upserts by the site's id; sent again, it changes nothing in number; a bad item refuses only itself", async () => {
    const items = [siteUserToOnec(user(10)), siteUserToOnec(user(11, '7707083894')), siteUserToOnec(user(12, '7707083893'))];
    const first = await call('POST', '/trade/hs/site/customers/batch', { items });
    const results = first.body.results as { status: number; Ref_Key?: string; error?: string }[];
    assert.deepEqual(results.map((r) => r.status), [201, 400, 201]);
    assert.match(results[1]?.error ?? '', /Контрольное число ИНН/);
    const count = onec.catalog.list().length;
    const again = (await call('POST', '/trade/hs/site/customers/batch', { items })).body.results as typeof results;
    assert.deepEqual(again.map((r) => r.status), [200, 400, 200]);
    assert.deepEqual(again.map((r) => r.Ref_Key), results.map((r) => r.Ref_Key));
    assert.equal(onec.catalog.list().length, count);
    // one customer: PUT by the site's id, the same upsert
    const put = await call('PUT', '/trade/hs/site/customers/10', { ...siteUserToOnec(user(10)), КатегорияКлиента: 'Оптовый' });
    assert.equal(put.status, 200);
    assert.equal(put.body.Ref_Key, results[0]?.Ref_Key);
    assert.equal(onec.catalog.findBySiteId('10')?.КатегорияКлиента, 'Оптовый');
  });

  it('the change feed lists what managers changed through OData, not what the site sent, oldest first, paged by token', async () => {
    const since = new Date().toISOString();
    await call('POST', '/trade/hs/site/customers/batch', { items: [siteUserToOnec(user(20))] });
    const refs: string[] = [];
    for (let i = 0; i < 7; i += 1) refs.push((await call('POST', odata(), { Description: `Менеджерский ${i}` })).body.Ref_Key as string);
    // a manager edits a customer the site sent: now it is in the feed
    const siteRef = onec.catalog.findBySiteId('20')?.Ref_Key as string;
    await call('PATCH', odata(`(guid'${siteRef}')`), { КатегорияКлиента: 'Дилер' });
    refs.push(siteRef);

    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const r = await call('GET', `/trade/hs/site/changes?since=${encodeURIComponent(since)}&limit=3${token ? `&pageToken=${token}` : ''}`);
      const items = r.body.items as (OnecCustomer & { МоментИзменения: string })[];
      assert.ok(items.length <= 3);
      seen.push(...items.map((c) => c.Ref_Key));
      token = r.body.nextPageToken as string | null;
      pages += 1;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen), new Set(refs));
    assert.equal(seen.length, refs.length);
    const later = await call('GET', `/trade/hs/site/changes?since=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`);
    assert.deepEqual(later.body.items, []);
    assert.equal((await call('GET', '/trade/hs/site/changes?since=вчера')).status, 400);
  });

  it('faults: 500, 429 with Retry-After, 503 while down, slow replies, resets — and a lost reply after the write committed', async () => {
    onec.faults.set({ serverError: 1 });
    const e500 = await call('GET', odata());
    assert.equal(e500.status, 500);
    assert.match(JSON.stringify(e500.body), /Превышено максимальное время ожидания/);
    onec.faults.set({ tooManyRequests: 1, retryAfterSeconds: 7 });
    const e429 = await call('GET', odata());
    assert.equal(e429.status, 429);
    assert.equal(e429.headers.get('retry-after'), '7');
    onec.faults.set({ down: true });
    assert.equal((await fetch(`${onec.url}${odata()}`, { headers: { authorization: AUTH } })).status, 503);
    onec.faults.set({ slow: 1, slowMs: 300 });
    const t0 = Date.now();
    assert.equal((await call('GET', odata())).status, 200);
    assert.ok(Date.now() - t0 >= 290);
    onec.faults.set({ reset: 1 });
    await assert.rejects(call('GET', odata()));
    onec.faults.set({ lostReply: 1 });
    await assert.rejects(call('PUT', '/trade/hs/site/customers/30', siteUserToOnec(user(30))));
    onec.faults.set({});
    assert.ok(onec.catalog.findBySiteId('30'), 'the write was carried out although the reply was lost');
    // the admin endpoint sets a plan; it is never faulted itself
    const set = await fetch(`${onec.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ serverError: 0.5, seed: 7, paths: ['/trade/hs/'] }) });
    assert.equal(set.status, 200);
    let failed = 0;
    for (let i = 0; i < 200; i += 1) if ((await call('GET', '/trade/hs/site/changes')).status === 500) failed += 1;
    assert.ok(failed > 70 && failed < 130, `about half of 200 requests failed: ${failed}`);
    assert.equal((await call('GET', odata('?$top=1'))).status, 200, 'paths outside the plan are not faulted');
    const stats = (await (await fetch(`${onec.url}/admin/stats`)).json()) as { faults: { serverError: number } };
    assert.ok(stats.faults.serverError >= failed);
    assert.equal((await fetch(`${onec.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ reset: 0.7, serverError: 0.7 }) })).status, 400);
  });

  describe("ferry's HTTP target and source against it", () => {
    const target = () =>
      httpTarget({
        baseUrl: `${onec.url}/trade`,
        system: '1c',
        secretHeaders: { Authorization: { env: 'ONEC_TEST_AUTH', prefix: 'Basic ' } },
        create: { path: 'hs/site/customers/{key}', method: 'PUT', idPath: 'Ref_Key' },
        batch: { path: 'hs/site/customers/batch', limit: 50, itemsField: 'items', idField: 'Ref_Key', resultsPath: 'results', idPath: 'Ref_Key', statusPath: 'status', errorPath: 'error' },
        idempotencyHeader: false,
      });
    const rows = (users: SiteUser[]): TargetRow[] => users.map((u) => ({ key: [u.id], internalId: null, op: 'create', version: 'v1', projection: { kind: CATALOG, fields: siteUserToOnec(u) } }));
    const context = { stream: 'site.users->1c.customers', runId: 'test' };

    it('a packet: ids are the Ref_Keys; the bad ИНН is a rejected row carrying 1C\'s error', async () => {
      const result = await target().upsert(rows([user(40), user(41, '1234567890'), user(42)]), context);
      assert.equal(result.ids[0], onec.catalog.findBySiteId('40')?.Ref_Key);
      assert.equal(result.ids[2], onec.catalog.findBySiteId('42')?.Ref_Key);
      assert.equal(result.rejected.length, 1);
      assert.equal(result.rejected[0]?.index, 1);
      assert.equal(result.rejected[0]?.status, 400);
      assert.match(result.rejected[0]?.message ?? '', /record refused with status 400: Поле "ИНН": Контрольное число ИНН не совпадает с рассчитанным: 1234567890/);
    });

    it('a lost reply is a TransientError; the retry finds what the first attempt wrote (one counterparty each)', async () => {
      const packet = rows([user(50), user(51), user(52)]);
      onec.faults.set({ lostReply: 1 });
      await assert.rejects(target().upsert(packet, context), TransientError);
      onec.faults.set({});
      const created = onec.catalog.created;
      const result = await target().upsert(packet, context);
      assert.equal(onec.catalog.created, created, 'the retry created nothing');
      assert.deepEqual(result.ids, ['50', '51', '52'].map((id) => onec.catalog.findBySiteId(id)?.Ref_Key));
    });

    it('429 is a TransientWithDelayError with 1C\'s Retry-After; 500 a TransientError; 401 a configuration error', async () => {
      onec.faults.set({ tooManyRequests: 1, retryAfterSeconds: 3 });
      await assert.rejects(target().upsert(rows([user(60)]), context), (err: unknown) => err instanceof TransientWithDelayError && err.delayMs === 3000);
      onec.faults.set({ serverError: 1 });
      await assert.rejects(target().upsert(rows([user(60)]), context), (err: unknown) => err instanceof TransientError && !(err instanceof TransientWithDelayError));
      onec.faults.set({});
      const saved = process.env.ONEC_TEST_AUTH;
      process.env.ONEC_TEST_AUTH = Buffer.from('Обмен:не тот').toString('base64');
      await assert.rejects(target().upsert(rows([user(60)]), context), /credentials were refused/);
      process.env.ONEC_TEST_AUTH = saved;
      assert.equal(onec.catalog.findBySiteId('60'), undefined);
      assert.ok(!(new TransientError('x') instanceof RecordRejectedError));
    });

    it('the source reads the change feed page by page, by token, from a since mark', async () => {
      const since = new Date().toISOString();
      for (let i = 0; i < 5; i += 1) await call('POST', odata(), { Description: `Для источника ${i}` });
      const source = httpSource({
        baseUrl: `${onec.url}/trade`,
        system: '1c',
        secretHeaders: { Authorization: { env: 'ONEC_TEST_AUTH', prefix: 'Basic ' } },
        path: 'hs/site/changes',
        records: 'items',
        pagination: { type: 'token', path: 'nextPageToken', param: 'pageToken', sizeParam: 'limit' },
        incremental: { param: 'since', field: 'МоментИзменения' },
      });
      const shape = { stream: '1c.customers->site.users', key: ['Ref_Key'] };
      let after: Cursor = { next: null, since, seen: [], page: 1 };
      const read: string[] = [];
      for (let n = 0; n < 10; n += 1) {
        const page = await source.fetch({ shape, after, limit: 2, mode: 'incremental', rewind: false });
        read.push(...page.rows.map((r) => String(r.Description)));
        after = page.next;
        if (page.done) break;
      }
      assert.deepEqual(read.filter((d) => d.startsWith('Для источника')).sort(), [0, 1, 2, 3, 4].map((i) => `Для источника ${i}`));
      assert.equal(new Set(read).size, read.length, 'nothing read twice');
    });
  });
});
