import { z } from 'zod';
import { quoteIdent, quoteTable } from '../connectors/postgres/identifiers.js';
import type { CustomResolver } from './policies.js';

/**
 * An exchange plan (1C's "план обмена"): which Postgres tables a star of nodes
 * keeps identical, and how conflicts are settled. Declared once, in
 * TypeScript, like a stream; the serializer, the triggers and the applier are
 * all driven by it.
 *
 * Every exchanged table (headers and lines) has `uuid` (unique), `updated_at`
 * (timestamptz, UTC) and `is_deleted` (soft delete). Those three are always
 * exchanged; `columns` lists the others.
 *
 * @example
 * defineExchange({
 *   name: 'field-reports',
 *   schemaVersion: '1.0.0',
 *   entities: {
 *     DailyReport: {
 *       table: 'daily_reports',
 *       columns: ['report_date', 'brigade', 'note'],
 *       lines: { lines: { table: 'daily_report_lines', parent: 'report_uuid', columns: ['work', 'quantity'] } },
 *       conflict: 'merge',
 *     },
 *     Estimate: { table: 'estimates', columns: ['title', 'amount'], conflict: 'last-writer-wins' },
 *   },
 * });
 */
export interface ExchangeOptions {
  /** a name for logs and the Web UI */
  name: string;
  /** sent in every packet header; a receiver refuses a packet whose version it does not know */
  schemaVersion: string;
  /** other versions this node still applies (a rolling upgrade) */
  acceptsSchemaVersions?: readonly string[];
  /** entity type (as in packets) -> its tables */
  entities: Record<string, EntityOptions>;
  /** at most this many entities per packet; a larger backlog goes in several packets (default 1000) */
  packetSize?: number;
}

/** Who wins when both sides changed the same uuid since their last exchange. */
export type ConflictPolicyName = 'central-wins' | 'last-writer-wins' | 'merge';

export interface EntityOptions {
  table: string;
  /** exchanged columns besides uuid, updated_at and is_deleted */
  columns: readonly string[];
  /** nested line tables, by the key they have in the entity's data */
  lines?: Record<string, LineOptions>;
  /**
   * 'central-wins' (default; 1C's rule), 'last-writer-wins' (by updated_at, ties to the central node),
   * 'merge' (columns changed on one side only are both kept; columns changed on both go to mergeFallback),
   * or a function deciding the result.
   */
  conflict?: ConflictPolicyName | CustomResolver;
  /** for 'merge': who wins a column changed on both sides, and a deletion against an edit (default 'central-wins') */
  mergeFallback?: 'central-wins' | 'last-writer-wins';
}

export interface LineOptions {
  table: string;
  /** the line's column holding its entity's uuid */
  parent: string;
  /** exchanged columns besides uuid, updated_at, is_deleted and the parent column */
  columns: readonly string[];
}

export const SYSTEM_COLUMNS = ['uuid', 'updated_at', 'is_deleted'] as const;

export type ResolvedPolicy =
  | { kind: 'central-wins' }
  | { kind: 'last-writer-wins' }
  | { kind: 'merge'; fallback: 'central-wins' | 'last-writer-wins' }
  | { kind: 'custom'; resolve: CustomResolver };

export interface LinePlan {
  name: string;
  table: string;
  /** quoted, ready for SQL */
  sqlTable: string;
  parent: string;
  /** every exchanged column: system columns, the parent column, the declared ones */
  columns: string[];
}

export interface EntityPlan {
  type: string;
  table: string;
  sqlTable: string;
  /** every exchanged column: system columns first, then the declared ones */
  columns: string[];
  lines: LinePlan[];
  policy: ResolvedPolicy;
}

export interface ExchangePlan {
  name: string;
  schemaVersion: string;
  /** schemaVersion and acceptsSchemaVersions */
  knownSchemaVersions: string[];
  packetSize: number;
  entities: EntityPlan[];
  entity(type: string): EntityPlan | undefined;
}

const EXCHANGE_BRAND = Symbol.for('ferry.exchange');

export interface ExchangeDefinition extends ExchangePlan {
  readonly [EXCHANGE_BRAND]: true;
}

export function isExchangeDefinition(value: unknown): value is ExchangeDefinition {
  return typeof value === 'object' && value !== null && EXCHANGE_BRAND in value;
}

const column = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case column name (letters, digits, _)');
const columns = z.array(column).refine((c) => new Set(c).size === c.length, 'lists a column twice');
const policy = z.union([z.enum(['central-wins', 'last-writer-wins', 'merge']), z.custom<CustomResolver>((v) => typeof v === 'function', 'must be a function')]);

const optionsSchema = z.object({
  name: z.string().min(1).max(200),
  schemaVersion: z.string().min(1).max(50),
  acceptsSchemaVersions: z.array(z.string().min(1)).optional(),
  packetSize: z.number().int().min(1).max(100_000).optional(),
  entities: z.record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_.]*$/, 'entity types are names such as DailyReport'),
    z.object({
      table: z.string().min(1),
      columns,
      lines: z.record(column, z.object({ table: z.string().min(1), parent: column, columns })).optional(),
      conflict: policy.optional(),
      mergeFallback: z.enum(['central-wins', 'last-writer-wins']).optional(),
    }),
  ),
});

function resolvePolicy(e: EntityOptions): ResolvedPolicy {
  const c = e.conflict ?? 'central-wins';
  if (typeof c === 'function') return { kind: 'custom', resolve: c };
  if (c === 'merge') return { kind: 'merge', fallback: e.mergeFallback ?? 'central-wins' };
  return { kind: c };
}

function withoutSystem(cols: readonly string[], where: string): string[] {
  for (const c of cols) {
    if ((SYSTEM_COLUMNS as readonly string[]).includes(c)) {
      throw new z.ZodError([{ code: 'custom', path: [where], message: `"${c}" is always exchanged: do not list it in columns`, input: cols }]);
    }
  }
  return [...cols];
}

/** Declares an exchange plan; throws a ZodError / ConfigurationError saying which field is wrong. */
export function defineExchange(options: ExchangeOptions): ExchangeDefinition {
  const o = optionsSchema.parse(options);
  const tables = new Set<string>();
  const claim = (table: string, what: string) => {
    quoteTable(table, what);
    if (tables.has(table)) throw new z.ZodError([{ code: 'custom', path: ['entities'], message: `table "${table}" is exchanged twice: each table belongs to one entity`, input: table }]);
    tables.add(table);
  };
  const entities: EntityPlan[] = Object.entries(o.entities).map(([type, e]) => {
    claim(e.table, `entity ${type}: table`);
    const own = withoutSystem(e.columns, `entities.${type}.columns`);
    const lines: LinePlan[] = Object.entries(e.lines ?? {}).map(([name, l]) => {
      claim(l.table, `entity ${type}: line table`);
      if (own.includes(name) || (SYSTEM_COLUMNS as readonly string[]).includes(name)) {
        throw new z.ZodError([{ code: 'custom', path: ['entities', type, 'lines', name], message: `line set "${name}" has the name of a column of ${e.table}`, input: name }]);
      }
      const lineCols = withoutSystem(l.columns, `entities.${type}.lines.${name}.columns`).filter((c) => c !== l.parent);
      quoteIdent(l.parent, `entity ${type}: line parent column`);
      return { name, table: l.table, sqlTable: quoteTable(l.table, 'line table'), parent: l.parent, columns: [...SYSTEM_COLUMNS, l.parent, ...lineCols] };
    });
    return { type, table: e.table, sqlTable: quoteTable(e.table, 'table'), columns: [...SYSTEM_COLUMNS, ...own], lines, policy: resolvePolicy(options.entities[type] as EntityOptions) };
  });
  const byType = new Map(entities.map((e) => [e.type, e]));
  return {
    [EXCHANGE_BRAND]: true,
    name: o.name,
    schemaVersion: o.schemaVersion,
    knownSchemaVersions: [o.schemaVersion, ...(o.acceptsSchemaVersions ?? [])],
    packetSize: o.packetSize ?? 1000,
    entities,
    entity: (type) => byType.get(type),
  };
}
