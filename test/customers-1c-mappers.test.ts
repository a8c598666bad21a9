// The customers-1c example's mappers, case by case (no Temporal, no database):
// site user -> 1C counterparty and back, phones to E.164, roles, 1C dates, the
// ИНН check digits, and the zod schemas of both shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MappingError } from '../src/index.js';
import { fromOnecDate, fromOnecDateTime, parseTimestamp, toOnecDate, toOnecDateTime } from '../examples/customers-1c/mapping/dates.js';
import { onecToSiteUser } from '../examples/customers-1c/mapping/onec-to-site.js';
import { phonePresentation, toE164 } from '../examples/customers-1c/mapping/phone.js';
import { categoryToRole, roleToCategory } from '../examples/customers-1c/mapping/roles.js';
import { siteUserToOnec } from '../examples/customers-1c/mapping/site-to-onec.js';
import { siteUserSchema, type SiteUser } from '../examples/customers-1c/mapping/site-user.js';
import { CounterpartyCatalog } from '../examples/customers-1c/onec/catalog.js';
import { innProblem, isValidInn, withInnCheckDigits } from '../examples/customers-1c/onec/inn.js';
import { EMPTY_DATE, onecChangeSchema, type OnecChange, type OnecCustomer } from '../examples/customers-1c/onec/shape.js';

const person: SiteUser = {
  id: '42',
  email: 'Ivan.Petrov@Example.RU',
  first_name: 'Иван',
  last_name: 'Петров',
  company_name: null,
  tax_id: null,
  kpp: null,
  phone: '8 (912) 345-67-89',
  role: 'customer',
  birth_date: '1990-05-01',
  date_joined: '2024-05-01 09:30:00.123456+00',
  is_active: true,
};
const company: SiteUser = { ...person, id: '43', company_name: 'ООО «Ромашка»', tax_id: '7707083893', kpp: '773601001', role: 'wholesale' };
const soleTrader: SiteUser = { ...person, id: '44', company_name: 'ИП Петров И. И.', tax_id: '500100732259', kpp: null, role: 'dealer' };

/** For assert.throws: a MappingError naming this field. */
const mappingError = (field: string) => (err: unknown) => err instanceof MappingError && err.issues.some((i) => i.path === field);

const asChange = (o: OnecCustomer, at = '2024-06-01T10:00:00.000Z'): OnecChange => ({ ...o, МоментИзменения: at });

describe('customers-1c: ИНН check digits', () => {
  it('accepts real 10- and 12-digit numbers and refuses a wrong check digit', () => {
    assert.equal(isValidInn('7707083893'), true);
    assert.equal(isValidInn('500100732259'), true);
    assert.match(innProblem('7707083894') ?? '', /Контрольное число ИНН не совпадает/);
    assert.match(innProblem('500100732258') ?? '', /Контрольное число ИНН не совпадает/);
    assert.match(innProblem('500100732249') ?? '', /Контрольное число/); // the 11th digit wrong
  });

  it('refuses a number of the wrong length or with letters', () => {
    assert.match(innProblem('12345') ?? '', /10 цифр .* 12 цифр/);
    assert.match(innProblem('77070838a3') ?? '', /только из цифр/);
  });

  it('makes valid numbers from any prefix (the example and tests generate them)', () => {
    for (let i = 0; i < 200; i += 1) {
      const nine = String(100_000_000 + i * 4_999_981).slice(0, 9);
      const ten = String(1_000_000_000 + i * 49_999_991).slice(0, 10);
      assert.equal(isValidInn(withInnCheckDigits(nine)), true, nine);
      assert.equal(isValidInn(withInnCheckDigits(ten)), true, ten);
    }
  });
});

describe('customers-1c: phones to E.164', () => {
  const cases: [string, string][] = [
    ['8 (912) 345-67-89', '+79123456789'],
    ['+7 912 345 67 89', '+79123456789'],
    ['7-912-345-67-89', '+79123456789'],
    ['9123456789', '+79123456789'],
    ['00 7 912 345 67 89', '+79123456789'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+375 (29) 123-45-67', '+375291234567'],
  ];
  for (const [input, e164] of cases) it(`${input} -> ${e164}`, () => assert.equal(toE164(input), e164));

  for (const bad of ['12345', '+7 912 345', 'позвоните мне', '3456789012', '+0 123 456 789', '']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => toE164(bad)));
  }

  it('shows a Russian number as 1C does, others as they are', () => {
    assert.equal(phonePresentation('+79123456789'), '+7 (912) 345-67-89');
    assert.equal(phonePresentation('+442079460958'), '+442079460958');
  });
});

describe('customers-1c: roles and dates', () => {
  it('maps every site role to a 1C category and back', () => {
    assert.equal(roleToCategory('customer'), 'Розничный');
    assert.equal(roleToCategory('wholesale'), 'Оптовый');
    assert.equal(roleToCategory('dealer'), 'Дилер');
    for (const role of ['customer', 'wholesale', 'dealer'] as const) assert.equal(categoryToRole(roleToCategory(role)), role);
  });

  it('writes instants in the 1C server\'s local time (Moscow), seconds, no zone', () => {
    assert.equal(toOnecDateTime(parseTimestamp('2024-05-01 09:30:00.123456+00')), '2024-05-01T12:30:00');
    assert.equal(toOnecDateTime(parseTimestamp('2024-12-31 23:59:59+03')), '2024-12-31T23:59:59');
    assert.equal(toOnecDateTime(parseTimestamp('2024-01-01T00:00:00Z')), '2024-01-01T03:00:00');
  });

  it('reads 1C local times back to instants, and the empty date as null', () => {
    assert.equal(fromOnecDateTime('2024-05-01T12:30:00')?.toISOString(), '2024-05-01T09:30:00.000Z');
    assert.equal(fromOnecDateTime(EMPTY_DATE), null);
    // another base's zone
    assert.equal(fromOnecDateTime('2024-05-01T12:30:00', 'Asia/Yekaterinburg')?.toISOString(), '2024-05-01T07:30:00.000Z');
  });

  it('keeps calendar dates as dates (midnight, no zone shift)', () => {
    assert.equal(toOnecDate('1990-05-01'), '1990-05-01T00:00:00');
    assert.equal(toOnecDate(null), EMPTY_DATE);
    assert.equal(fromOnecDate('1990-05-01T00:00:00'), '1990-05-01');
    assert.equal(fromOnecDate(EMPTY_DATE), null);
  });

  it('refuses a timestamp without a zone', () => {
    assert.throws(() => parseTimestamp('2024-05-01 09:30:00'), /time zone/);
  });
});

describe('customers-1c: site -> 1C', () => {
  it('a person without a company: ФизическоеЛицо named "Фамилия Имя", phone and e-mail as contact rows', () => {
    const c = siteUserToOnec(person);
    assert.equal(c.ЮридическоеФизическоеЛицо, 'ФизическоеЛицо');
    assert.equal(c.Description, 'Петров Иван');
    assert.equal(c.ИНН, '');
    assert.equal(c.КПП, '');
    assert.equal(c.КонтактноеЛицо, '');
    assert.equal(c.КатегорияКлиента, 'Розничный');
    assert.equal(c.ДатаРождения, '1990-05-01T00:00:00');
    assert.equal(c.ДатаРегистрации, '2024-05-01T12:30:00');
    assert.equal(c.ИдентификаторНаСайте, '42');
    assert.equal(c.DeletionMark, false);
    assert.deepEqual(c.КонтактнаяИнформация, [
      { LineNumber: '1', Тип: 'Телефон', Представление: '+7 (912) 345-67-89', НомерТелефона: '+79123456789', АдресЭП: '' },
      { LineNumber: '2', Тип: 'АдресЭлектроннойПочты', Представление: 'ivan.petrov@example.ru', НомерТелефона: '', АдресЭП: 'ivan.petrov@example.ru' },
    ]);
  });

  it('a company with a 10-digit ИНН: ЮридическоеЛицо with КПП, the user as contact person', () => {
    const c = siteUserToOnec(company);
    assert.equal(c.ЮридическоеФизическоеЛицо, 'ЮридическоеЛицо');
    assert.equal(c.Description, 'ООО «Ромашка»');
    assert.equal(c.ИНН, '7707083893');
    assert.equal(c.КПП, '773601001');
    assert.equal(c.КонтактноеЛицо, 'Иван Петров');
    assert.equal(c.КатегорияКлиента, 'Оптовый');
  });

  it('a company with a 12-digit ИНН is a sole trader: ФизическоеЛицо named as the business, no КПП', () => {
    const c = siteUserToOnec({ ...soleTrader, kpp: '773601001' });
    assert.equal(c.ЮридическоеФизическоеЛицо, 'ФизическоеЛицо');
    assert.equal(c.Description, 'ИП Петров И. И.');
    assert.equal(c.КПП, '');
    assert.equal(c.КонтактноеЛицо, 'Иван Петров');
    assert.equal(c.КатегорияКлиента, 'Дилер');
  });

  it('a person with a 12-digit ИНН keeps it', () => {
    assert.equal(siteUserToOnec({ ...person, tax_id: '500100732259' }).ИНН, '500100732259');
  });

  it('refuses a company without ИНН, a person with a company\'s ИНН, a bad phone (MappingError naming the field)', () => {
    assert.throws(() => siteUserToOnec({ ...company, tax_id: null }), mappingError('tax_id'));
    assert.throws(() => siteUserToOnec({ ...person, tax_id: '7707083893' }), mappingError('tax_id'));
    assert.throws(() => siteUserToOnec({ ...person, phone: '12-34' }), mappingError('phone'));
  });

  it('a deactivated user is marked for deletion in 1C; no phone, no phone row', () => {
    const c = siteUserToOnec({ ...person, is_active: false, phone: null });
    assert.equal(c.DeletionMark, true);
    assert.deepEqual(c.КонтактнаяИнформация.map((r) => r.Тип), ['АдресЭлектроннойПочты']);
  });

  it('does not check ИНН check digits: that is 1C\'s call (its error reaches the dead letter)', () => {
    assert.equal(siteUserToOnec({ ...company, tax_id: '7707083894' }).ИНН, '7707083894');
  });
});

describe('customers-1c: 1C -> site', () => {
  const catalog = new CounterpartyCatalog();
  const stored = (u: SiteUser) => catalog.create(siteUserToOnec(u), 'site-exchange');

  for (const [label, user] of [['a person', person], ['a company', company], ['a sole trader', soleTrader]] as const) {
    it(`${label}: what the site sent comes back as the same user`, () => {
      const back = onecToSiteUser(asChange(stored({ ...user, email: `${label.replace(/\W/g, '')}@example.ru` })));
      assert.equal(back.email, `${label.replace(/\W/g, '')}@example.ru`);
      assert.equal(back.first_name, user.first_name);
      assert.equal(back.last_name, user.last_name);
      assert.equal(back.company_name, user.company_name);
      assert.equal(back.tax_id, user.tax_id);
      assert.equal(back.kpp, user === soleTrader ? null : user.kpp);
      assert.equal(back.phone, '+79123456789');
      assert.equal(back.role, user.role);
      assert.equal(back.birth_date, user.birth_date);
      assert.equal(back.date_joined, '2024-05-01T09:30:00.000Z');
      assert.equal(back.created_in_1c, false);
      assert.equal(back.sync_status, 'synced');
    });
  }

  it('a counterparty made in 1C: created_in_1c, names from "Фамилия Имя Отчество", phone from its presentation', () => {
    const made = catalog.create(
      {
        Description: 'Сидорова Анна Павловна',
        КонтактнаяИнформация: [
          { LineNumber: '1', Тип: 'Телефон', Представление: '8 (495) 123-45-67', НомерТелефона: '', АдресЭП: '' },
          { LineNumber: '2', Тип: 'АдресЭлектроннойПочты', Представление: 'Anna@Example.ru', НомерТелефона: '', АдресЭП: '' },
        ],
        КатегорияКлиента: 'Оптовый',
      },
      'odata',
    );
    const u = onecToSiteUser(asChange(made, '2024-06-01T10:00:00.000Z'));
    assert.equal(u.created_in_1c, true);
    assert.equal(u.last_name, 'Сидорова');
    assert.equal(u.first_name, 'Анна Павловна');
    assert.equal(u.company_name, null);
    assert.equal(u.email, 'anna@example.ru');
    assert.equal(u.phone, '+74951234567');
    assert.equal(u.role, 'wholesale');
    assert.equal(u.onec_id, made.Ref_Key);
    // no registration date in 1C: the time 1C registered the change
    assert.equal(u.date_joined, '2024-06-01T10:00:00.000Z');
    assert.equal(u.birth_date, null);
  });

  it('a counterparty marked for deletion is an inactive user', () => {
    const u = onecToSiteUser(asChange({ ...stored({ ...person, id: '99', email: 'gone@example.ru' }), DeletionMark: true }));
    assert.equal(u.is_active, false);
  });

  it('refuses a counterparty without e-mail (the site signs users in by it)', () => {
    const made = catalog.create({ Description: 'Без Почты' }, 'odata');
    assert.throws(() => onecToSiteUser(asChange(made)), mappingError('КонтактнаяИнформация'));
  });
});

describe('customers-1c: the schemas of both shapes', () => {
  const row = { ...person, id: '7', tax_id: '', kpp: ' ', company_name: '', phone: '', updated_at: '2024-05-01 09:30:00+00', last_login: null };

  it('the site row: blanks are null, extra columns dropped', () => {
    const parsed = siteUserSchema.parse(row);
    assert.equal(parsed.tax_id, null);
    assert.equal(parsed.kpp, null);
    assert.equal(parsed.company_name, null);
    assert.equal('updated_at' in parsed, false);
  });

  it('the site row: a malformed ИНН, e-mail or role is refused, naming the field', () => {
    const fields = (r: unknown) => (siteUserSchema.safeParse(r).error?.issues ?? []).map((i) => i.path.join('.'));
    assert.deepEqual(fields({ ...row, tax_id: '12345' }), ['tax_id']);
    assert.deepEqual(fields({ ...row, email: 'not an address' }), ['email']);
    assert.deepEqual(fields({ ...row, role: 'admin' }), ['role']);
  });

  it('the 1C change: what the catalog stores parses; a bad Ref_Key or date does not', () => {
    const c = asChange(new CounterpartyCatalog().create(siteUserToOnec(person), 'site-exchange'));
    assert.equal(onecChangeSchema.safeParse(c).success, true);
    assert.equal(onecChangeSchema.safeParse({ ...c, Ref_Key: '42' }).success, false);
    assert.equal(onecChangeSchema.safeParse({ ...c, ДатаРождения: '01.05.1990' }).success, false);
  });
});
