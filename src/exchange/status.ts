import type pg from 'pg';
import { listNodes, pendingByNode } from './nodes.js';

/** One node's view of the exchange: itself and, per peer, its queue and packet numbers. */
export interface NodeStatus {
  code: string;
  id: string;
  role: 'central' | 'peripheral';
  self: boolean;
  /** changes waiting to go to this peer (of them, already in a packet not yet acknowledged) */
  pending: number;
  inFlight: number;
  receivedPacketNo: number;
  sentPacketNo: number;
  ackedPacketNo: number;
  lastExchangeIn: string | null;
  lastExchangeOut: string | null;
}

export async function exchangeStatus(pool: pg.Pool): Promise<NodeStatus[]> {
  const [nodes, pending] = await Promise.all([listNodes(pool), pendingByNode(pool)]);
  return nodes.map((n) => ({
    code: n.code,
    id: n.id,
    role: n.is_central ? 'central' : 'peripheral',
    self: n.is_self,
    pending: pending.get(n.id)?.pending ?? 0,
    inFlight: pending.get(n.id)?.inFlight ?? 0,
    receivedPacketNo: Number(n.received_packet_no),
    sentPacketNo: Number(n.sent_packet_no),
    ackedPacketNo: Number(n.acked_packet_no),
    lastExchangeIn: n.last_exchange_in,
    lastExchangeOut: n.last_exchange_out,
  }));
}

export interface ConflictEntry {
  id: string;
  detectedAt: string;
  peer: string;
  packetNo: number;
  entityType: string;
  entityUuid: string;
  kind: string;
  policy: string;
  winner: string;
  local: unknown;
  incoming: unknown;
  result: unknown;
}

export async function listConflicts(pool: pg.Pool, options: { limit: number; entity?: string | undefined }): Promise<ConflictEntry[]> {
  const r = await pool.query<{ id: string; detected_at: string; peer_code: string; packet_no: string; entity_type: string; entity_uuid: string; kind: string; policy: string; winner: string; local_version: unknown; incoming_version: unknown; result: unknown }>(
    `select id, detected_at::text, peer_code, packet_no, entity_type, entity_uuid::text, kind, policy, winner, local_version, incoming_version, result
     from ferry_exchange_conflicts where ($2::text is null or entity_type = $2 or entity_uuid::text = $2) order by id desc limit $1`,
    [options.limit, options.entity ?? null],
  );
  return r.rows.map((x) => ({
    id: x.id,
    detectedAt: x.detected_at,
    peer: x.peer_code,
    packetNo: Number(x.packet_no),
    entityType: x.entity_type,
    entityUuid: x.entity_uuid,
    kind: x.kind,
    policy: x.policy,
    winner: x.winner,
    local: x.local_version,
    incoming: x.incoming_version,
    result: x.result,
  }));
}
