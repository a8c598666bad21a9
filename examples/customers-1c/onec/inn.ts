// The ИНН (Russian taxpayer number) check digits, as the Federal Tax Service
// defines them and 1C checks them before it writes a counterparty:
//   10 digits (an organisation): digit 10 = (Σ d_i·w_i mod 11) mod 10, w = 2 4 10 3 5 9 4 6 8
//   12 digits (a person, a sole trader): digit 11 from the first 10 with
//     w = 7 2 4 10 3 5 9 4 6 8, digit 12 from the first 11 with w = 3 7 2 4 10 3 5 9 4 6 8.

const W10 = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

function checkDigit(digits: string, weights: readonly number[]): number {
  let sum = 0;
  weights.forEach((w, i) => (sum += w * Number(digits[i])));
  return (sum % 11) % 10;
}

/** Why an ИНН is wrong, in 1C's words, or undefined when it is right. */
export function innProblem(inn: string): string | undefined {
  if (!/^\d+$/.test(inn)) return 'ИНН должен состоять только из цифр';
  if (inn.length === 10) {
    return checkDigit(inn, W10) === Number(inn[9]) ? undefined : 'Контрольное число ИНН не совпадает с рассчитанным';
  }
  if (inn.length === 12) {
    const ok = checkDigit(inn, W11) === Number(inn[10]) && checkDigit(inn, W12) === Number(inn[11]);
    return ok ? undefined : 'Контрольное число ИНН не совпадает с рассчитанным';
  }
  return 'ИНН должен состоять из 10 цифр (организация) или 12 цифр (физическое лицо, ИП)';
}

export const isValidInn = (inn: string): boolean => innProblem(inn) === undefined;

/** A valid ИНН from its first 9 digits (an organisation) or 10 (a person): the check digits appended. */
export function withInnCheckDigits(prefix: string): string {
  if (!/^\d{9}$|^\d{10}$/.test(prefix)) throw new RangeError(`withInnCheckDigits: 9 or 10 digits expected, got ${JSON.stringify(prefix)}`);
  if (prefix.length === 9) return prefix + String(checkDigit(prefix, W10));
  const eleven = prefix + String(checkDigit(prefix, W11));
  return eleven + String(checkDigit(eleven, W12));
}
