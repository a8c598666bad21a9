// The fake 1C base's storage: the Контрагенты catalog in memory, with the checks
// 1C's object module runs before a write (ОбработкаПроверкиЗаполнения) and an
// exchange plan's change registration for the site's node.
//
// Change registration follows 1C's exchange plans: every write registers the
// object for the site's node, except a write that came *from* the site through
// its exchange service (ОбменДанными.Отправитель = the site's node): 1C never
// registers a change back to the node that sent it. One registration per
// object (the latest), as in a real exchange plan's change table.
import { randomUUID } from 'node:crypto';
import { EMPTY_DATE, onecCustomerFieldsSchema, type OnecChange, type OnecCustomer, type OnecCustomerFields } from './shape.js';
import { innProblem } from './inn.js';

/** A write 1C refuses: an OData error body with this status. */
export class OnecError extends Error {
  constructor(
    readonly status: number,
    /** this fake's error code (real 1C codes vary by platform version) */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OnecError';
  }

  /** The body 1C's OData interface answers with. */
  body(): { 'odata.error': { code: string; message: { lang: 'ru'; value: string } } } {
    return { 'odata.error': { code: this.code, message: { lang: 'ru', value: this.message } } };
  }
}

/** Who wrote: the site through its exchange service (not registered back to it), or anyone through OData (a manager). */
export type WriteOrigin = 'site-exchange' | 'odata';

const BLANK: OnecCustomerFields = {
  DeletionMark: false,
  Description: '',
  НаименованиеПолное: '',
  ЮридическоеФизическоеЛицо: 'ФизическоеЛицо',
  ИНН: '',
  КПП: '',
  КонтактноеЛицо: '',
  КатегорияКлиента: 'Розничный',
  ДатаРождения: EMPTY_DATE,
  ДатаРегистрации: EMPTY_DATE,
  ИдентификаторНаСайте: '',
  КонтактнаяИнформация: [],
};

export class CounterpartyCatalog {
  private readonly byRef = new Map<string, OnecCustomer>();
  private readonly bySiteId = new Map<string, string>();
  /** Ref_Key -> when its change was registered for the site's node */
  private readonly registered = new Map<string, string>();
  private nextCode = 1;
  private writes = 0;
  /** objects created (never decreases: a deleted object counted once) */
  created = 0;

  /** All objects, in creation order. */
  list(): OnecCustomer[] {
    return [...this.byRef.values()];
  }

  get(ref: string): OnecCustomer | undefined {
    return this.byRef.get(ref);
  }

  findBySiteId(siteId: string): OnecCustomer | undefined {
    const ref = this.bySiteId.get(siteId);
    return ref === undefined ? undefined : this.byRef.get(ref);
  }

  create(fields: Partial<OnecCustomerFields>, origin: WriteOrigin): OnecCustomer {
    const object: OnecCustomer = {
      ...BLANK,
      ...this.checked(fields, undefined),
      Ref_Key: randomUUID(),
      Code: String(this.nextCode++).padStart(9, '0'),
      DataVersion: '',
    };
    this.created += 1;
    return this.store(object, origin);
  }

  /** PATCH: the given fields change, the rest stay. */
  update(ref: string, fields: Partial<OnecCustomerFields>, origin: WriteOrigin): OnecCustomer {
    const current = this.byRef.get(ref);
    if (!current) throw new OnecError(404, 'NotFound', `Объект не найден: Catalog_Контрагенты(guid'${ref}')`);
    return this.store({ ...current, ...this.checked(fields, current) }, origin);
  }

  /**
   * The site's exchange: the counterparty of site user `siteId`, created or
   * updated (by `ref` when the site knows it, else by the site id). A repeated
   * call with the same data finds the object and leaves one: what makes a
   * retried export exactly-once on the 1C side.
   */
  upsertFromSite(siteId: string, ref: string | undefined, fields: Partial<OnecCustomerFields>): { object: OnecCustomer; created: boolean } {
    if (!siteId) throw new OnecError(400, 'FillCheck', 'Поле "ИдентификаторНаСайте" не заполнено');
    const existing = (ref ? this.byRef.get(ref) : undefined) ?? this.findBySiteId(siteId);
    const withId = { ...fields, ИдентификаторНаСайте: siteId };
    if (existing) return { object: this.update(existing.Ref_Key, withId, 'site-exchange'), created: false };
    return { object: this.create(withId, 'site-exchange'), created: true };
  }

  delete(ref: string): boolean {
    const current = this.byRef.get(ref);
    if (!current) return false;
    this.byRef.delete(ref);
    this.registered.delete(ref);
    if (current.ИдентификаторНаСайте) this.bySiteId.delete(current.ИдентификаторНаСайте);
    return true;
  }

  /**
   * The changes registered for the site's node at or after `since` (ISO),
   * after the (at, ref) position of a page token, in (at, Ref_Key) order.
   */
  changes(since: string | undefined, after: { at: string; ref: string } | undefined, limit: number): { items: OnecChange[]; more: boolean } {
    const all = [...this.registered.entries()]
      .map(([ref, at]) => ({ ref, at }))
      .filter((c) => (since === undefined || c.at >= since) && (!after || c.at > after.at || (c.at === after.at && c.ref > after.ref)))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    const items = all.slice(0, limit).map((c) => ({ ...(this.byRef.get(c.ref) as OnecCustomer), МоментИзменения: c.at }));
    return { items, more: all.length > limit };
  }

  /** The fields of a write, checked as 1C's object module would (ОбработкаПроверкиЗаполнения). */
  private checked(fields: Partial<OnecCustomerFields>, current: OnecCustomer | undefined): Partial<OnecCustomerFields> {
    const parsed = onecCustomerFieldsSchema.partial().strict().safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new OnecError(400, 'BadRequest', `Неверное значение свойства "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'ошибка формата'}`);
    }
    const next = { ...BLANK, ...(current ?? {}), ...parsed.data };
    const who = next.Description ? ` (контрагент "${next.Description}")` : '';
    if (!next.Description.trim()) throw new OnecError(400, 'FillCheck', 'Поле "Наименование" не заполнено');
    if (next.ЮридическоеФизическоеЛицо === 'ЮридическоеЛицо' && !next.ИНН) throw new OnecError(400, 'FillCheck', `Поле "ИНН" не заполнено${who}`);
    if (next.ИНН) {
      const problem = innProblem(next.ИНН);
      if (problem) throw new OnecError(400, 'FillCheck', `Поле "ИНН": ${problem}: ${next.ИНН}${who}`);
    }
    if (next.КПП && !/^\d{4}[\dA-Z]{2}\d{3}$/.test(next.КПП)) throw new OnecError(400, 'FillCheck', `Поле "КПП": КПП должен состоять из 9 символов: ${next.КПП}${who}`);
    const siteId = next.ИдентификаторНаСайте;
    const holder = siteId ? this.bySiteId.get(siteId) : undefined;
    if (holder && holder !== current?.Ref_Key) throw new OnecError(409, 'Duplicate', `Контрагент с идентификатором на сайте ${siteId} уже есть: ${holder}`);
    return parsed.data;
  }

  private store(object: OnecCustomer, origin: WriteOrigin): OnecCustomer {
    const previous = this.byRef.get(object.Ref_Key);
    if (previous?.ИдентификаторНаСайте && previous.ИдентификаторНаСайте !== object.ИдентификаторНаСайте) this.bySiteId.delete(previous.ИдентификаторНаСайте);
    const stored = { ...object, DataVersion: Buffer.from(`v${++this.writes}`).toString('base64') };
    this.byRef.set(stored.Ref_Key, stored);
    if (stored.ИдентификаторНаСайте) this.bySiteId.set(stored.ИдентификаторНаСайте, stored.Ref_Key);
    if (origin === 'odata') this.registered.set(stored.Ref_Key, new Date().toISOString());
    return stored;
  }
}
