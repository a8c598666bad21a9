import { z } from 'zod';
import type { ExchangePlan } from './define-exchange.js';
import { ExchangeProtocolError } from './errors.js';

/**
 * The packet, one format for request and reply (the design's envelope):
 *
 *   { "header": { "sender_node_id", "recipient_node_id", "packet_no", "ack_packet_no", "schema_version" },
 *     "body": { "entities": [ { "type", "uuid", "operation": "INSERT" | "UPDATE" | "DELETE", "data": {...} } ] } }
 *
 * `data` holds the entity's exchanged columns and, per line set, an array of
 * lines. A soft delete travels with its data (is_deleted: true), so a node
 * that never had the row still gets it and every database holds the same
 * rows; `data: null` with DELETE (the design's short form) soft-deletes the
 * receiver's row.
 */
export interface PacketHeader {
  sender_node_id: string;
  recipient_node_id: string;
  packet_no: number;
  ack_packet_no: number;
  schema_version: string;
}

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a uuid');
const packetNo = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const headerSchema = z.object({
  sender_node_id: uuid,
  recipient_node_id: uuid,
  packet_no: packetNo.min(1),
  ack_packet_no: packetNo,
  schema_version: z.string().min(1).max(50),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPERATIONS = new Set(['INSERT', 'UPDATE', 'DELETE']);

/** What is wrong with one entity of a body, or undefined (a plain loop: zod takes ~40 µs an entity, too slow for packets of 10,000). */
function entityIssue(e: unknown, types: ReadonlySet<string>): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'must be an object';
  const x = e as Record<string, unknown>;
  if (typeof x.type !== 'string' || !types.has(x.type)) return `type: must be one of ${[...types].join(', ')}`;
  if (typeof x.uuid !== 'string' || !UUID.test(x.uuid)) return 'uuid: must be a uuid';
  if (typeof x.operation !== 'string' || !OPERATIONS.has(x.operation)) return 'operation: must be INSERT, UPDATE or DELETE';
  if (x.data === null) return x.operation === 'DELETE' ? undefined : 'data: may be null only for DELETE';
  if (typeof x.data !== 'object' || Array.isArray(x.data)) return 'data: must be an object';
  if (String((x.data as Record<string, unknown>).uuid) !== x.uuid) return 'data.uuid: must be the entity uuid';
  return undefined;
}

/** Parses and checks an envelope's structure (the data itself is applied by Postgres from the exact text). */
export function parseEnvelope(plan: ExchangePlan, text: string): { header: PacketHeader; entities: number } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ExchangeProtocolError(`the body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const invalid = (issues: string[]) => new ExchangeProtocolError(`the body is not a valid exchange envelope — ${issues.slice(0, 5).join('; ')}`);
  const root = (typeof json === 'object' && json !== null ? json : {}) as { header?: unknown; body?: { entities?: unknown } };
  const header = headerSchema.safeParse(root.header);
  if (!header.success) throw invalid(header.error.issues.map((i) => `header.${i.path.join('.')}: ${i.message}`));
  const entities = root.body?.entities;
  if (!Array.isArray(entities)) throw invalid(['body.entities: must be an array']);
  const types = new Set(plan.entities.map((e) => e.type));
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const [i, e] of entities.entries()) {
    const issue = entityIssue(e, types);
    if (issue) issues.push(`body.entities.${i}.${issue}`);
    else {
      // one entry per entity: a packet carries each entity once, in its latest state
      const key = `${(e as { type: string }).type}/${(e as { uuid: string }).uuid.toLowerCase()}`;
      if (seen.has(key)) issues.push(`body.entities.${i}: ${key} appears twice`);
      seen.add(key);
    }
    if (issues.length >= 5) break;
  }
  if (issues.length) throw invalid(issues);
  return { header: header.data, entities: entities.length };
}

/** Reads only the header of a packet this node built or a peer answered (the body stays text). */
export function parseHeader(text: string): PacketHeader {
  const json = JSON.parse(text) as { header?: unknown };
  const parsed = headerSchema.safeParse(json.header);
  if (!parsed.success) throw new ExchangeProtocolError(`the packet header is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The envelope as text, around a JSON array of entities already rendered by Postgres. */
export function renderEnvelope(header: PacketHeader, entitiesJson: string): string {
  return `{"header":${JSON.stringify(header)},"body":{"entities":${entitiesJson}}}`;
}
