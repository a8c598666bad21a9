// A counterparty as 1C's standard OData interface shows it (Catalog_Контрагенты,
// see /work/shared/1C-ODATA-NOTES.md): system properties (Ref_Key, DataVersion,
// DeletionMark, Code, Description), the catalog's attributes under their Russian
// metadata names, and the contact-information tabular part as an array of rows.
// Strings are never null in 1C: an empty value is ''; an empty date is
// 0001-01-01T00:00:00; dates carry no time zone (the 1C server's local time).
import { z } from 'zod';

export const EMPTY_DATE = '0001-01-01T00:00:00';

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a GUID');
/** 1C's date-time literal: local time, no zone, seconds precision. */
export const onecDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'must be a 1C date such as 2024-05-01T00:00:00');

export const LEGAL_FORMS = ['ЮридическоеЛицо', 'ФизическоеЛицо'] as const;
export type LegalForm = (typeof LEGAL_FORMS)[number];

/** A custom attribute of this base (integrators add one per project): the customer's price category. */
export const CUSTOMER_CATEGORIES = ['Розничный', 'Оптовый', 'Дилер'] as const;
export type CustomerCategory = (typeof CUSTOMER_CATEGORIES)[number];

export const CONTACT_KINDS = ['Телефон', 'АдресЭлектроннойПочты'] as const;

export const contactRowSchema = z.object({
  LineNumber: z.string().regex(/^\d+$/),
  Тип: z.enum(CONTACT_KINDS),
  /** as a person reads it: '+7 (912) 345-67-89', 'ivan@example.ru' */
  Представление: z.string(),
  /** E.164 for a phone, '' otherwise */
  НомерТелефона: z.string(),
  /** the address for an e-mail row, '' otherwise */
  АдресЭП: z.string(),
});
export type ContactRow = z.infer<typeof contactRowSchema>;

/** What a client may write (POST / PATCH / the site's exchange service). */
export const onecCustomerFieldsSchema = z.object({
  DeletionMark: z.boolean(),
  Description: z.string().max(100),
  НаименованиеПолное: z.string(),
  ЮридическоеФизическоеЛицо: z.enum(LEGAL_FORMS),
  ИНН: z.string(),
  КПП: z.string(),
  КонтактноеЛицо: z.string(),
  КатегорияКлиента: z.enum(CUSTOMER_CATEGORIES),
  ДатаРождения: onecDate,
  ДатаРегистрации: onecDate,
  /** the site's user id: the key the site's exchange upserts by (one counterparty per site user) */
  ИдентификаторНаСайте: z.string(),
  КонтактнаяИнформация: z.array(contactRowSchema),
});
export type OnecCustomerFields = z.infer<typeof onecCustomerFieldsSchema>;

/** A counterparty as 1C returns it. */
export const onecCustomerSchema = onecCustomerFieldsSchema.extend({
  Ref_Key: guid,
  /** changes on every write: a ready-made version */
  DataVersion: z.string().min(1),
  Code: z.string(),
});
export type OnecCustomer = z.infer<typeof onecCustomerSchema>;

/** A counterparty in the site's change feed (/hs/site/changes): the object and when its change was registered. */
export const onecChangeSchema = onecCustomerSchema.extend({
  /** ISO 8601 UTC, milliseconds: when the change was registered for the site's node */
  МоментИзменения: z.string(),
});
export type OnecChange = z.infer<typeof onecChangeSchema>;
