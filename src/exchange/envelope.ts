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

function envelopeSchema(plan: ExchangePlan) {
  const types = plan.entities.map((e) => e.type) as [string, ...string[]];
  return z.object({
    header: headerSchema,
    body: z.object({
      entities: z.array(
        z
          .object({
            type: z.enum(types),
            uuid,
            operation: z.enum(['INSERT', 'UPDATE', 'DELETE']),
            data: z.record(z.string(), z.unknown()).nullable(),
          })
          .refine((e) => e.data !== null || e.operation === 'DELETE', { message: 'data may be null only for DELETE' })
          .refine((e) => e.data === null || String(e.data.uuid) === e.uuid, { message: 'data.uuid must be the entity uuid' }),
      ),
    }),
  });
}

/** Parses and checks an envelope's structure (the data itself is applied by Postgres from the exact text). */
export function parseEnvelope(plan: ExchangePlan, text: string): { header: PacketHeader; entities: number } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ExchangeProtocolError(`the body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = envelopeSchema(plan).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ExchangeProtocolError(`the body is not a valid exchange envelope — ${issues.join('; ')}`);
  }
  return { header: parsed.data.header, entities: parsed.data.body.entities.length };
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
