import { isJsonNull, isLosslessNumber, JSON_NULL, LosslessNumber } from '../core/json-values.js';

/**
 * How record data is written to the state store (staged batches, dead
 * letters' `raw`) and read back exactly. Plain JSON keeps most values; the
 * few it cannot hold travel as a one-key object with a reserved key:
 *
 *   LosslessNumber  {"~ferry.number": "10.50"}     -0          {"~ferry.number": "-0"}
 *   JSON_NULL       {"~ferry.jsonNull": true}      bigint      {"~ferry.bigint": "42"}
 *   Buffer          {"~ferry.bytes": "<base64>"}
 *   an object that has a reserved key of its own   {"~ferry.object": [[key, value], …]}
 *
 * Encoding is plain JSON.stringify unless a walk finds such a value (then with
 * a replacer); decoding is plain JSON.parse unless the text holds a reserved
 * key: the common payload stays at native speed.
 * The encoded text is also valid jsonb (the tags hold strings, not numbers
 * jsonb would rewrite).
 */

const NUMBER = '~ferry.number';
const JSON_NULL_TAG = '~ferry.jsonNull';
const BIGINT = '~ferry.bigint';
const BYTES = '~ferry.bytes';
const OBJECT = '~ferry.object';
const MARK = '"~ferry.';

function hasReservedKey(value: object): boolean {
  return NUMBER in value || JSON_NULL_TAG in value || BIGINT in value || BYTES in value || OBJECT in value;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return value === 0 && 1 / value < 0 ? { [NUMBER]: '-0' } : value;
    case 'bigint':
      return { [BIGINT]: value.toString() };
    case 'object': {
      if (value === null) {
        // JSON_NULL's toJSON already turned it into null: look at the value itself.
        return isJsonNull((this as Record<string, unknown>)[key]) ? { [JSON_NULL_TAG]: true } : null;
      }
      if (isLosslessNumber(value)) return { [NUMBER]: value.toString() };
      if (Array.isArray(value)) return value;
      const original = (this as Record<string, unknown>)[key];
      if (original instanceof Uint8Array) return { [BYTES]: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
      return hasReservedKey(value) ? { [OBJECT]: Object.entries(value) } : value;
    }
    default:
      return value;
  }
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const tagged = value as Record<string, unknown>;
  if (NUMBER in tagged) {
    const text = tagged[NUMBER] as string;
    return text === '-0' ? -0 : new LosslessNumber(text);
  }
  if (JSON_NULL_TAG in tagged) return JSON_NULL;
  if (BIGINT in tagged) return BigInt(tagged[BIGINT] as string);
  if (BYTES in tagged) return Buffer.from(tagged[BYTES] as string, 'base64');
  if (OBJECT in tagged) return Object.fromEntries(tagged[OBJECT] as [string, unknown][]);
  return value;
}

/** Whether plain JSON.stringify would lose something in this value (a walk is cheaper than a replacer on every value). */
function needsTags(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return value === 0 && 1 / value < 0;
    case 'bigint':
      return true;
    case 'object': {
      if (value === null) return false;
      if (Array.isArray(value)) {
        for (const item of value) if (needsTags(item)) return true;
        return false;
      }
      if (isLosslessNumber(value) || isJsonNull(value) || value instanceof Uint8Array || hasReservedKey(value)) return true;
      if (value instanceof Date) return false;
      for (const key in value) if (needsTags((value as Record<string, unknown>)[key])) return true;
      return false;
    }
    default:
      return false;
  }
}

/** JSON text of record data, exact for every value a source or mapper may produce. */
export function encodeRecords(value: unknown): string {
  return needsTags(value) ? JSON.stringify(value, replacer) : JSON.stringify(value);
}

/** jsonb orders keys by length, then bytewise. */
function inJsonbOrder(value: object): boolean {
  let previous: Buffer | undefined;
  for (const key of Object.keys(value)) {
    const bytes = Buffer.from(key);
    if (previous && (previous.length > bytes.length || (previous.length === bytes.length && Buffer.compare(previous, bytes) > 0))) return false;
    previous = bytes;
  }
  return true;
}

/**
 * encodeRecords for a jsonb column (a dead letter's `raw`): jsonb reorders
 * object keys, so a nested object whose keys are not already in jsonb's order
 * (one read from a json column) travels as its entries. The record itself
 * stays a plain object, so `raw->>'field'` still works.
 */
export function encodeRecordsForJsonb(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const out = replacer.call(this, key, v);
    if (out !== v || v === value || typeof v !== 'object' || v === null || Array.isArray(v) || inJsonbOrder(v)) return out;
    return { [OBJECT]: Object.entries(v) };
  });
}

/** The value encodeRecords or encodeRecordsForJsonb was given. */
export function decodeRecords<T>(text: string): T {
  return (text.includes(MARK) ? JSON.parse(text, reviver) : JSON.parse(text)) as T;
}

/** The same, for a payload a driver already parsed as plain JSON (a jsonb column read by pg). */
export function decodeParsed<T>(value: unknown): T {
  return decodeRecords<T>(JSON.stringify(value));
}
