import type pg from 'pg';
import type { ExchangePlan } from './define-exchange.js';
import { parseEnvelope, type PacketHeader } from './envelope.js';
import { ExchangeProtocolError, schemaMismatch } from './errors.js';
import { lockPeerByToken, requireSelf, type NodeRow } from './nodes.js';
import { applyPacket, buildPacket, dropAcknowledged, logPacket, type ApplyStats } from './packets.js';
import { inTransaction } from './tx.js';

/**
 * The central node's side of a handshake, as one transaction: check the
 * node's token, drop the central node's changes the node acknowledged, apply
 * the node's packet (or only acknowledge it, if that number was already
 * received), and reply with the central node's own pending changes and the
 * acknowledgement. A refusal (401, 400, 409) changes nothing.
 */

export interface ExchangeReply {
  status: number;
  body: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const refusal = (status: number, code: string, message: string): ExchangeReply => ({ status, body: JSON.stringify({ error: { code, message } }) });

export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}

export interface HandshakeOutcome {
  node: string;
  received: number;
  duplicate: boolean;
  applied: ApplyStats | undefined;
  replyPacketNo: number;
  replyEntities: number;
}

/** Handles POST /api/sync/exchange. `onHandled` sees what happened (tests, logs); the reply body is the central node's packet. */
export async function handleExchange(
  pool: pg.Pool,
  plan: ExchangePlan,
  request: { authorization: string | undefined; body: string },
  onHandled?: (outcome: HandshakeOutcome) => void,
): Promise<ExchangeReply> {
  const token = bearerToken(request.authorization);
  if (!token) return refusal(401, 'unauthorized', 'missing node token: send Authorization: Bearer <token> (given by ferry nodes add)');
  try {
    const { reply, outcome } = await inTransaction(pool, async (client) => {
      const node = await lockPeerByToken(client, token);
      if (!node) throw new Refusal(401, 'unauthorized', 'unknown node token: check the token the node sends, or add the node again (ferry nodes add)');
      // One handshake applies at a time on the central node: two nodes' packets touching the
      // same entities (and each other's queues) would otherwise deadlock. A handshake of
      // thousands of entities takes well under a second, so desktops hardly wait.
      await client.query(`select pg_advisory_xact_lock(hashtext('ferry_exchange_handshake'))`);
      let header: PacketHeader;
      let entities: number;
      try {
        ({ header, entities } = parseEnvelope(plan, request.body));
      } catch (err) {
        if (err instanceof ExchangeProtocolError) throw new Refusal(400, 'malformed_packet', err.message);
        throw err;
      }
      if (header.sender_node_id !== node.id) throw new Refusal(401, 'unauthorized', `the token is node "${node.code}"'s but the packet's sender_node_id is ${header.sender_node_id}`);
      const self = await requireSelf(client, 'exchange');
      if (header.recipient_node_id !== self.id) throw new Refusal(400, 'wrong_recipient', `the packet is addressed to ${header.recipient_node_id}; this is node "${self.code}" (${self.id})`);
      if (!plan.knownSchemaVersions.includes(header.schema_version)) {
        throw new Refusal(409, 'schema_version_mismatch', schemaMismatch(header.schema_version, plan.knownSchemaVersions, `central node "${self.code}", packet ${header.packet_no} from node "${node.code}"`).message);
      }
      if (header.ack_packet_no > Number(node.sent_packet_no)) {
        throw new Refusal(400, 'bad_ack', `packet ${header.packet_no} acknowledges packet ${header.ack_packet_no}, but only ${node.sent_packet_no} were sent to node "${node.code}"`);
      }
      return handshake(client, plan, self, node, header, entities, request.body);
    });
    onHandled?.(outcome);
    return { status: 200, body: reply };
  } catch (err) {
    if (err instanceof Refusal) return refusal(err.status, err.code, err.message);
    throw err;
  }
}

async function handshake(client: pg.PoolClient, plan: ExchangePlan, self: NodeRow, node: NodeRow, header: PacketHeader, entities: number, body: string) {
  await dropAcknowledged(client, node.id, header.ack_packet_no);
  const duplicate = header.packet_no <= Number(node.received_packet_no);
  let applied: ApplyStats | undefined;
  if (duplicate) {
    await logPacket(client, { nodeId: node.id, direction: 'in', packetNo: header.packet_no, ack: header.ack_packet_no, entities, outcome: 'duplicate' });
  } else {
    applied = await applyPacket(client, { plan, sender: node, packetNo: header.packet_no, selfIsCentral: true }, body);
    await client.query('update ferry_exchange_nodes set received_packet_no = $2, last_exchange_in = now() where id = $1', [node.id, header.packet_no]);
    await logPacket(client, { nodeId: node.id, direction: 'in', packetNo: header.packet_no, ack: header.ack_packet_no, entities, outcome: 'applied' });
  }
  const received = Math.max(header.packet_no, Number(node.received_packet_no));
  const replyNo = Number(node.sent_packet_no) + 1;
  const out = await buildPacket(client, plan, {
    sender_node_id: self.id,
    recipient_node_id: node.id,
    packet_no: replyNo,
    ack_packet_no: received,
    schema_version: plan.schemaVersion,
  });
  await client.query('update ferry_exchange_nodes set sent_packet_no = $2, last_exchange_out = now() where id = $1', [node.id, replyNo]);
  await logPacket(client, { nodeId: node.id, direction: 'out', packetNo: replyNo, ack: received, entities: out.entities, outcome: 'sent' });
  return { reply: out.envelope, outcome: { node: node.code, received: header.packet_no, duplicate, applied, replyPacketNo: replyNo, replyEntities: out.entities } };
}

/** GET /api/sync/node: who the token's node is, and who the central node is (a peripheral node's first contact). */
export async function describeNodeForToken(pool: pg.Pool, plan: ExchangePlan, authorization: string | undefined): Promise<ExchangeReply> {
  const token = bearerToken(authorization);
  if (!token) return refusal(401, 'unauthorized', 'missing node token');
  return inTransaction(pool, async (client) => {
    const node = await lockPeerByToken(client, token);
    if (!node) return refusal(401, 'unauthorized', 'unknown node token');
    const self = await requireSelf(client, 'exchange');
    return { status: 200, body: JSON.stringify({ node_id: node.id, node_code: node.code, central_id: self.id, central_code: self.code, schema_version: plan.schemaVersion }) };
  });
}
