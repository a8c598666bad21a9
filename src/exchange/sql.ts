import { quoteIdent } from '../connectors/postgres/identifiers.js';
import type { EntityPlan, LinePlan } from './define-exchange.js';

/**
 * The generic serializer, as SQL: an entity's data is built and written by
 * Postgres itself (jsonb), so values travel exactly — numerics keep every
 * digit, timestamps their microseconds — and a packet of thousands of
 * entities is one statement per table, not one per row.
 *
 * Every statement here runs with `timezone = 'UTC'` (see utcTransaction), so
 * the same row renders as the same JSON on every node.
 */

const q = (c: string) => quoteIdent(c, 'column');

/** jsonb_build_object takes at most 100 arguments: longer lists are joined with ||. */
function buildObject(columns: readonly string[], alias: string): string {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i += 40) {
    parts.push(`jsonb_build_object(${columns.slice(i, i + 40).map((c) => `'${c}', ${alias}.${q(c)}`).join(', ')})`);
  }
  return parts.length ? parts.join(' || ') : `'{}'::jsonb`;
}

function linesExpression(line: LinePlan, headerAlias: string): string {
  return `coalesce((select jsonb_agg(${buildObject(line.columns, 'l')} order by l."uuid") from ${line.sqlTable} l where l.${q(line.parent)} = ${headerAlias}."uuid"), '[]'::jsonb)`;
}

/** The entity's data as jsonb, from its header row `alias`: the exchanged columns and, per line set, its lines ordered by uuid. */
export function docExpression(entity: EntityPlan, alias = 'h'): string {
  const lines = entity.lines.map((l) => `jsonb_build_object('${l.name}', ${linesExpression(l, alias)})`);
  return [buildObject(entity.columns, alias), ...lines].join(' || ');
}

/**
 * The same data as json (text-built, several times cheaper than jsonb for a packet of
 * thousands): for packets on the wire. Postgres renders each value as in jsonb, so the
 * receiver's jsonb is equal to the sender's. Falls back to jsonb past json_build_object's
 * 100 arguments.
 */
export function wireDocExpression(entity: EntityPlan, alias = 'h'): string {
  const keys = entity.columns.length + entity.lines.length;
  if (keys > 50 || entity.lines.some((l) => l.columns.length > 50)) return `(${docExpression(entity, alias)})::json`;
  const pair = (c: string, a: string) => `'${c}', ${a}.${q(c)}`;
  const lines = entity.lines.map(
    (l) =>
      `'${l.name}', coalesce((select json_agg(json_build_object(${l.columns.map((c) => pair(c, 'l')).join(', ')}) order by l."uuid") from ${l.sqlTable} l where l.${q(l.parent)} = ${alias}."uuid"), '[]'::json)`,
  );
  return `json_build_object(${[...entity.columns.map((c) => pair(c, alias)), ...lines].join(', ')})`;
}

/** The header columns only (no lines), of a record `alias` (the base of a column-level merge). */
export function headerExpression(entity: EntityPlan, alias: string): string {
  return buildObject(entity.columns, alias);
}

/** Upserts the rows `rowsFrom` yields as `r` (a jsonb object each), skipping rows that would not change (so triggers see no change). */
function upsertRows(table: string, columns: readonly string[], rowsFrom: string): string {
  const cols = columns.map(q);
  const set = columns.filter((c) => c !== 'uuid').map((c) => `${q(c)} = excluded.${q(c)}`);
  const distinct = `(${columns.map((c) => `t.${q(c)}`).join(', ')}) is distinct from (${columns.map((c) => `excluded.${q(c)}`).join(', ')})`;
  return (
    `insert into ${table} as t (${cols.join(', ')}) select ${cols.map((c) => `r.${c}`).join(', ')} from ${rowsFrom} ` +
    `order by r."uuid" on conflict ("uuid") do update set ${set.join(', ')} where ${distinct}`
  );
}

/**
 * Writes the incoming entities of this type marked 'write' (ferry_incoming):
 * the header rows (returns one row per header written: inserted?, is_deleted),
 * then each line set.
 */
export function writeStatements(entity: EntityPlan): { header: string; lines: string[] } {
  const header =
    upsertRows(entity.sqlTable, entity.columns, `ferry_incoming i cross join lateral jsonb_populate_record(null::${entity.sqlTable}, i.data) r where i.type = $1 and i.action = 'write'`) +
    ` returning (xmax = 0) as inserted, t."is_deleted" as is_deleted`;
  const lines = entity.lines.map((l) =>
    upsertRows(
      l.sqlTable,
      l.columns,
      `ferry_incoming i cross join lateral jsonb_array_elements(coalesce(i.data->'${l.name}', '[]'::jsonb)) x(line) cross join lateral jsonb_populate_record(null::${l.sqlTable}, x.line) r where i.type = $1 and i.action = 'write'`,
    ),
  );
  return { header, lines };
}
