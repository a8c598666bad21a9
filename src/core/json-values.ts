import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/**
 * JSON values that keep their exact text. A json/jsonb value is parsed so a
 * schema and a mapper can use it, but a JS number cannot hold every JSON
 * number (`9007199254740993`, `10.50`, `1e-400`) and SQL NULL is not JSON
 * `null`; these helpers keep both apart so the value written back is the one
 * that was read.
 */

export { isLosslessNumber, LosslessNumber };

class JsonNullValue {
  // An own property, so a hash of the record (its version) tells JSON_NULL from `{}`.
  private readonly ferry = 'json-null';

  /** Shown as `null` by JSON.stringify (logs, `ferry dlq show`). */
  toJSON(): null {
    return null;
  }
  toString(): string {
    return 'null';
  }
}

/**
 * A json/jsonb column that holds the JSON value `null` (SQL NULL stays JS
 * `null`). Only a whole column value is JSON_NULL; a `null` inside an object
 * or array stays JS `null`.
 */
export const JSON_NULL: JsonNull = Object.freeze(new JsonNullValue()) as JsonNull;

/** The type of JSON_NULL. */
export type JsonNull = JsonNullValue;

export function isJsonNull(value: unknown): value is JsonNull {
  return value === JSON_NULL;
}

/** A JSON number becomes a JS number only when the number prints back as the same text. */
function exactNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

const parseOptions = {
  parseNumber: exactNumber,
  // Like JSON.parse and jsonb: the last of duplicate keys wins (lossless-json throws by default).
  onDuplicateKey: (info: { newValue: unknown }) => info.newValue,
};

/** Parses a column's JSON text; a top-level `null` becomes JSON_NULL. */
export function parseJsonColumn(text: string): unknown {
  const value = parse(text, null, parseOptions);
  return value === null ? JSON_NULL : value;
}

/** JSON text of a value for a json/jsonb column: LosslessNumbers print their own text, JSON_NULL prints `null`. */
export function stringifyJson(value: unknown, space?: number): string {
  return stringify(value, null, space) ?? 'null';
}
