import { parseJsonColumn } from '../../core/json-values.js';

/**
 * How the connector's pools turn Postgres text into JS values: every value
 * exact, so what is read can be written back unchanged (README: "What your
 * schema and mapper see"). Set per pool, never on pg's global `types`, which
 * the state store shares.
 *
 *   int2, int4, oid, finite float4/float8   number (-0 stays -0)
 *   float NaN / Infinity / -Infinity         the string 'NaN' / 'Infinity' / '-Infinity'
 *   bool                                     boolean
 *   json, jsonb                              parsed exactly (json-values.ts); JSON null -> JSON_NULL
 *   arrays of the above and of text-like     JS arrays (NULL elements -> null); with explicit
 *     types                                  bounds ('[0:1]={…}') the Postgres text
 *   everything else (int8, numeric, money,   the Postgres text output
 *     dates and times, interval, uuid, inet,
 *     bytea as \x…, enums, …)
 */

type Parse = (text: string) => unknown;

const asText: Parse = (text) => text;

function asFloat(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

const SCALARS = new Map<number, Parse>([
  [16, (text) => text === 't'], // bool
  [21, Number], // int2
  [23, Number], // int4
  [26, Number], // oid
  [700, asFloat], // float4
  [701, asFloat], // float8
  [114, parseJsonColumn], // json
  [3802, parseJsonColumn], // jsonb
]);

/** Array type oid -> element type oid, for the built-in types whose arrays become JS arrays. */
const ARRAYS = new Map<number, number>([
  [1000, 16], // bool
  [1005, 21], // int2
  [1007, 23], // int4
  [1028, 26], // oid
  [1021, 700], // float4
  [1022, 701], // float8
  [199, 114], // json
  [3807, 3802], // jsonb
  [1016, 20], // int8
  [1231, 1700], // numeric
  [791, 790], // money
  [1009, 25], // text
  [1015, 1043], // varchar
  [1014, 1042], // bpchar
  [1002, 18], // char
  [1003, 19], // name
  [1001, 17], // bytea
  [2951, 2950], // uuid
  [1182, 1082], // date
  [1183, 1083], // time
  [1270, 1266], // timetz
  [1115, 1114], // timestamp
  [1185, 1184], // timestamptz
  [1187, 1186], // interval
  [1041, 869], // inet
  [651, 650], // cidr
  [1040, 829], // macaddr
  [775, 774], // macaddr8
]);

/**
 * Postgres array output: `{a,"b \"c\"",NULL,{1,2}}` — elements separated by
 * commas, quoted (with backslash escapes) when they hold anything special,
 * unquoted NULL for SQL NULL, nested braces for more dimensions.
 */
function parseArray(text: string, element: Parse): unknown[] {
  let at = 0;
  const list = (): unknown[] => {
    const items: unknown[] = [];
    at += 1; // '{'
    if (text[at] === '}') {
      at += 1;
      return items;
    }
    for (;;) {
      if (text[at] === '{') {
        items.push(list());
      } else if (text[at] === '"') {
        const parts: string[] = [];
        let start = (at += 1);
        for (; at < text.length && text[at] !== '"'; at += 1) {
          if (text[at] !== '\\') continue;
          parts.push(text.slice(start, at));
          start = at += 1; // the escaped character is kept as is
        }
        parts.push(text.slice(start, at));
        const value = parts.join('');
        at += 1;
        items.push(element(value));
      } else {
        const start = at;
        while (at < text.length && text[at] !== ',' && text[at] !== '}') at += 1;
        const value = text.slice(start, at);
        items.push(value === 'NULL' ? null : element(value));
      }
      if (text[at] === '}' || at >= text.length) {
        at += 1;
        return items;
      }
      at += 1; // ','
    }
  };
  return list();
}

function arrayParser(element: Parse): Parse {
  // Explicit lower bounds ('[0:2]={…}') have no JS array form: keep the text.
  return (text) => (text.startsWith('[') ? text : parseArray(text, element));
}

const PARSERS = new Map<number, Parse>([
  ...SCALARS,
  ...[...ARRAYS].map(([array, element]): [number, Parse] => [array, arrayParser(SCALARS.get(element) ?? asText)]),
]);

/** The `types` option of a connector pool. */
export const exactTypes = {
  getTypeParser(oid: number): Parse {
    return PARSERS.get(oid) ?? asText;
  },
};
