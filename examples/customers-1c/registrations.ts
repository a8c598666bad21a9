// Sign-ups for the example and its tests: people, companies, sole traders, with
// phones written the ways people write them, and a share of ИНН with a wrong
// check digit (1C refuses those). Deterministic: the n-th sign-up is always the same.
import { withInnCheckDigits } from './onec/inn.js';
import type { Registration } from './site.js';

const FIRST = ['Иван', 'Мария', 'Алексей', 'Ольга', 'Дмитрий', 'Анна', 'Сергей', 'Елена'];
const LAST = ['Петров', 'Смирнова', 'Кузнецов', 'Попова', 'Соколов', 'Лебедева', 'Козлов', 'Новикова'];
const ROLES = ['customer', 'customer', 'wholesale', 'dealer'] as const;

const digits = (n: number, length: number) => String(n).padStart(length, '0').slice(-length);

function phone(n: number): string {
  const local = `9${digits(n * 7919, 9)}`;
  switch (n % 3) {
    case 0:
      return `8 (${local.slice(0, 3)}) ${local.slice(3, 6)}-${local.slice(6, 8)}-${local.slice(8)}`;
    case 1:
      return `+7 ${local.slice(0, 3)} ${local.slice(3, 6)} ${local.slice(6, 8)} ${local.slice(8)}`;
    default:
      return local;
  }
}

/** A wrong check digit: the last digit moved by one. */
const spoiled = (inn: string) => inn.slice(0, -1) + String((Number(inn.slice(-1)) + 1) % 10);

export interface SignUp extends Registration {
  /** 1C will refuse it: its ИНН has a wrong check digit */
  badTaxId: boolean;
}

/**
 * Sign-ups number `from` .. `from + count - 1`. One in `badEvery` (default 50: 2%)
 * is a company whose ИНН has a wrong check digit.
 */
export function signUps(from: number, count: number, badEvery = 50): SignUp[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const first = FIRST[n % FIRST.length] as string;
    const last = LAST[(n >> 3) % LAST.length] as string;
    const base = { email: `customer${n}@example.ru`, first_name: first, last_name: last, phone: phone(n), role: ROLES[n % ROLES.length], birth_date: n % 5 === 0 ? null : `19${digits(60 + (n % 40), 2)}-0${1 + (n % 9)}-1${n % 10}` };
    if (badEvery > 0 && n % badEvery === 7) {
      return { ...base, company_name: `ООО «Опечатка ${n}»`, tax_id: spoiled(withInnCheckDigits(digits(770000000 + n, 9))), kpp: '770101001', badTaxId: true };
    }
    switch (n % 4) {
      case 0: // a person
        return { ...base, badTaxId: false };
      case 1: // a person who gave their ИНН
        return { ...base, tax_id: withInnCheckDigits(digits(5000000000 + n, 10)), badTaxId: false };
      case 2: // a company
        return { ...base, company_name: `ООО «Клиент ${n}»`, tax_id: withInnCheckDigits(digits(770000000 + n, 9)), kpp: '770101001', badTaxId: false };
      default: // a sole trader
        return { ...base, company_name: `ИП ${last} ${first[0]}.`, tax_id: withInnCheckDigits(digits(5000000000 + n, 10)), badTaxId: false };
    }
  });
}
