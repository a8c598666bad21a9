// Phone numbers to E.164 (+<country><number>), the form 1C's contact information
// keeps in НомерТелефона. Russian habits are understood: 8 (912) 345-67-89,
// +7 912 345 67 89, 9123456789 (a mobile number without the trunk prefix); other
// countries need their + or 00 prefix.

export class PhoneError extends Error {}

export function toE164(input: string): string {
  const text = input.trim();
  if (!/^[\d\s()+\-.]+$/.test(text)) throw new PhoneError(`"${input}" is not a phone number (only digits, spaces, ( ) - . and a leading + are allowed)`);
  const plus = text.startsWith('+') || text.startsWith('00');
  let digits = text.replace(/\D/g, '');
  if (text.startsWith('00')) digits = digits.slice(2);
  if (!plus) {
    if (digits.length === 11 && (digits[0] === '8' || digits[0] === '7')) digits = `7${digits.slice(1)}`;
    else if (digits.length === 10 && digits[0] === '9') digits = `7${digits}`;
    else throw new PhoneError(`"${input}" has no country code (write +<country> for numbers outside Russia)`);
  }
  if (digits[0] === '7' && digits.length !== 11) throw new PhoneError(`"${input}": a Russian number has 10 digits after +7`);
  if (digits.length < 8 || digits.length > 15 || digits[0] === '0') throw new PhoneError(`"${input}" is not a valid international number`);
  return `+${digits}`;
}

/** How 1C shows a number (Представление): +7 (912) 345-67-89 for Russia, the E.164 form otherwise. */
export function phonePresentation(e164: string): string {
  const ru = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164);
  return ru ? `+7 (${ru[1]}) ${ru[2]}-${ru[3]}-${ru[4]}` : e164;
}
