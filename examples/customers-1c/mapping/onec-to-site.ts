// The story's CustomerDataMapper.map_1c_to_platform: a counterparty from 1C's
// change feed as the columns of the site's users row.
//   ЮридическоеЛицо                  -> company_name = Description, names from КонтактноеЛицо
//   ФизическоеЛицо with a contact     -> a sole trader: the same as a company
//   ФизическоеЛицо                    -> last_name, first_name from "Фамилия Имя [Отчество]"
// The site signs users in by e-mail: a counterparty without one is refused (MappingError).
import { MappingError } from '../../../src/index.js';
import type { OnecChange } from '../onec/shape.js';
import { fromOnecDate, fromOnecDateTime } from './dates.js';
import { PhoneError, toE164 } from './phone.js';
import { categoryToRole } from './roles.js';
import type { ImportedUser } from './site-user.js';

function splitName(full: string): { first: string; last: string } {
  const words = full.trim().split(/\s+/).filter(Boolean);
  return { last: words[0] ?? '', first: words.slice(1).join(' ') };
}

function personOfContact(contact: string): { first: string; last: string } {
  // the export writes "Имя Фамилия": the last word is the surname
  const words = contact.trim().split(/\s+/).filter(Boolean);
  return { first: words.slice(0, -1).join(' '), last: words[words.length - 1] ?? '' };
}

export function onecToSiteUser(c: OnecChange): ImportedUser {
  const emailRow = c.КонтактнаяИнформация.find((r) => r.Тип === 'АдресЭлектроннойПочты' && (r.АдресЭП || r.Представление));
  const email = (emailRow?.АдресЭП || emailRow?.Представление || '').trim().toLowerCase();
  if (!email) throw new MappingError('the counterparty has no e-mail in its contact information: the site cannot make a user of it', 'КонтактнаяИнформация');

  const phoneRow = c.КонтактнаяИнформация.find((r) => r.Тип === 'Телефон');
  let phone: string | null = null;
  if (phoneRow && (phoneRow.НомерТелефона || phoneRow.Представление)) {
    try {
      phone = toE164(phoneRow.НомерТелефона || phoneRow.Представление);
    } catch (err) {
      if (err instanceof PhoneError) throw new MappingError(`phone: ${err.message}`, 'КонтактнаяИнформация');
      throw err;
    }
  }

  const business = c.ЮридическоеФизическоеЛицо === 'ЮридическоеЛицо' || c.КонтактноеЛицо.trim() !== '';
  const names = business ? personOfContact(c.КонтактноеЛицо) : splitName(c.Description);
  const joined = fromOnecDateTime(c.ДатаРегистрации) ?? new Date(c.МоментИзменения);
  return {
    onec_id: c.Ref_Key,
    email,
    first_name: names.first,
    last_name: names.last,
    company_name: business ? c.Description : null,
    tax_id: c.ИНН || null,
    kpp: c.КПП || null,
    phone,
    role: categoryToRole(c.КатегорияКлиента),
    birth_date: fromOnecDate(c.ДатаРождения),
    date_joined: joined.toISOString(),
    is_active: !c.DeletionMark,
    // a counterparty the site sent carries the site's id; one made in 1C does not
    created_in_1c: c.ИдентификаторНаСайте === '',
    sync_status: 'synced',
    last_sync_at: c.МоментИзменения,
    sync_error_message: '',
  };
}
