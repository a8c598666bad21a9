// The story's CustomerDataMapper.map_platform_to_1c: a site user as a 1C
// counterparty (Catalog_Контрагенты), plus the site's id the exchange upserts by.
//   no company                     -> ФизическоеЛицо, named "Фамилия Имя"
//   a company and a 10-digit ИНН   -> ЮридическоеЛицо with КПП, the user as contact person
//   a company and a 12-digit ИНН   -> a sole trader: ФизическоеЛицо named as the company
//                                     ("ИП Иванов И. И."), no КПП, the user as contact person
// A rule the record breaks throws MappingError naming the field (a dead letter).
import { MappingError } from '../../../src/index.js';
import type { ContactRow, OnecCustomerFields } from '../onec/shape.js';
import { parseTimestamp, toOnecDate, toOnecDateTime } from './dates.js';
import { PhoneError, phonePresentation, toE164 } from './phone.js';
import { roleToCategory } from './roles.js';
import type { SiteUser } from './site-user.js';

/** What the export sends: the writable fields of the counterparty and the site's id. */
export type OnecExport = OnecCustomerFields;

export function siteUserToOnec(user: SiteUser): OnecExport {
  const person = [user.first_name, user.last_name].filter(Boolean).join(' ');
  const company = user.company_name;
  if (company === null && user.tax_id !== null && user.tax_id.length !== 12) {
    throw new MappingError(`a person's ИНН has 12 digits, got ${user.tax_id.length} (a 10-digit ИНН belongs to a company: fill in company_name)`, 'tax_id');
  }
  if (company !== null && user.tax_id === null) throw new MappingError('a company needs its ИНН in 1C', 'tax_id');
  const soleTrader = company !== null && user.tax_id?.length === 12;
  const description = company ?? [user.last_name, user.first_name].filter(Boolean).join(' ');
  if (!description) throw new MappingError('neither a company nor a name to call the counterparty by', 'last_name');

  return {
    DeletionMark: !user.is_active,
    Description: description.slice(0, 100),
    НаименованиеПолное: description,
    ЮридическоеФизическоеЛицо: company !== null && !soleTrader ? 'ЮридическоеЛицо' : 'ФизическоеЛицо',
    ИНН: user.tax_id ?? '',
    КПП: company !== null && !soleTrader ? (user.kpp ?? '') : '',
    КонтактноеЛицо: company !== null ? person : '',
    КатегорияКлиента: roleToCategory(user.role),
    ДатаРождения: toOnecDate(user.birth_date),
    ДатаРегистрации: toOnecDateTime(parseTimestamp(user.date_joined)),
    ИдентификаторНаСайте: user.id,
    КонтактнаяИнформация: contactRows(user),
  };
}

function contactRows(user: SiteUser): ContactRow[] {
  const rows: Omit<ContactRow, 'LineNumber'>[] = [];
  if (user.phone !== null) {
    let e164: string;
    try {
      e164 = toE164(user.phone);
    } catch (err) {
      if (err instanceof PhoneError) throw new MappingError(err.message, 'phone');
      throw err;
    }
    rows.push({ Тип: 'Телефон', Представление: phonePresentation(e164), НомерТелефона: e164, АдресЭП: '' });
  }
  const email = user.email.trim().toLowerCase();
  rows.push({ Тип: 'АдресЭлектроннойПочты', Представление: email, НомерТелефона: '', АдресЭП: email });
  return rows.map((r, i) => ({ LineNumber: String(i + 1), ...r }));
}
