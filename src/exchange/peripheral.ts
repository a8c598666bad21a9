import type pg from 'pg';
import type { ExchangePlan } from './define-exchange.js';
import { parseEnvelope } from './envelope.js';
import { ExchangeAuthError, ExchangeConfigurationError, ExchangeProtocolError, ExchangeSchemaMismatchError, schemaMismatch } from './errors.js';
import { ensureCentralPeer, lockCentral, requireSelf, selfNode } from './nodes.js';
import { applyPacket, buildPacket, dropAcknowledged, logPacket, zeroApplyStats, type ApplyStats } from './packets.js';
import { installExchange } from './schema.js';
import { EXCHANGE_PATH, NODE_PATH } from './server.js';
import { inTransaction } from './tx.js';

/**
 * A peripheral node's side of the handshake, in four idempotent steps (the
 * exchange workflow's activities): collect its unacknowledged changes into the
 * next packet (kept in the outbox, so a retry re-sends the same bytes), send
 * it and keep the reply (inbox), drop what the central node acknowledged, and
 * apply the reply in one transaction.
 */

/** How a packet reaches the central node; tests swap it to lose or repeat replies. */
export type Post = (url: string, token: string, body: string) => Promise<{ status: number; body: string }>;

export const httpPost: Post = async (url, token, body) => {
  const res = await fetch(`${url.replace(/\/$/, '')}${EXCHANGE_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  return { status: res.status, body: await res.text() };
};

export interface PeripheralEndpoint {
  /** this node's code, as the central node registered it */
  code: string;
  pool: pg.Pool;
  plan: ExchangePlan;
  centralUrl: string;
  token: string;
  post?: Post;
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body.slice(0, 500);
  } catch {
    return body.slice(0, 500);
  }
}

/** Turns a refusal of the central node into the error that says what to do. */
function refused(node: string, status: number, body: string): Error {
  const message = `central node refused node "${node}" (HTTP ${status}): ${errorMessage(body)}`;
  if (status === 401) return new ExchangeAuthError(message, `check the token of node "${node}" (ferry nodes add gives it)`);
  if (status === 409) return new ExchangeSchemaMismatchError(message);
  if (status === 400 || status === 404 || status === 413) return new ExchangeProtocolError(message);
  return new Error(message); // 5xx: transient, retried
}

/**
 * Sets up this node's database: the exchange tables and triggers, its identity
 * as the central node knows it, and the central node as its peer. Changes are
 * registered from then on (rows written before are not: a new node starts
 * empty and gets the initial load).
 */
export async function initPeripheral(endpoint: PeripheralEndpoint): Promise<{ selfId: string; centralId: string }> {
  const self = await selfNode(endpoint.pool).catch(() => undefined);
  const res = await fetch(`${endpoint.centralUrl.replace(/\/$/, '')}${NODE_PATH}`, { headers: { authorization: `Bearer ${endpoint.token}` }, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  if (res.status !== 200) throw refused(endpoint.code, res.status, body);
  const info = JSON.parse(body) as { node_id: string; node_code: string; central_id: string; central_code: string };
  if (info.node_code !== endpoint.code) {
    throw new ExchangeConfigurationError(`the token given for node "${endpoint.code}" is node "${info.node_code}"'s`, 'give each node its own token');
  }
  if (self && self.id !== info.node_id) {
    throw new ExchangeConfigurationError(`this database is node "${self.code}" (${self.id}), but the central node knows "${endpoint.code}" as ${info.node_id}`, 'the node was removed and added again: start its database afresh');
  }
  await installExchange(endpoint.pool, endpoint.plan, { code: endpoint.code, id: info.node_id, isCentral: false });
  await ensureCentralPeer(endpoint.pool, { id: info.central_id, code: info.central_code });
  return { selfId: info.node_id, centralId: info.central_id };
}

export interface Collected {
  packetNo: number;
  entities: number;
}

/** Builds the next packet (once per run and round: a retry finds the one already built). */
export async function collect(endpoint: PeripheralEndpoint, at: { runId?: string; round?: number } = {}): Promise<Collected> {
  return inTransaction(endpoint.pool, async (client) => {
    const self = await requireSelf(client, `node "${endpoint.code}"`);
    const central = await lockCentral(client);
    if (at.runId !== undefined) {
      const built = await client.query<{ packet_no: string; entities: number }>('select packet_no, entities from ferry_exchange_outbox where node_id = $1 and run_id = $2 and round = $3', [
        central.id,
        at.runId,
        at.round ?? 0,
      ]);
      if (built.rows[0]) return { packetNo: Number(built.rows[0].packet_no), entities: built.rows[0].entities };
    }
    const packetNo = Number(central.sent_packet_no) + 1;
    const ack = Number(central.received_packet_no);
    const { envelope, entities } = await buildPacket(client, endpoint.plan, {
      sender_node_id: self.id,
      recipient_node_id: central.id,
      packet_no: packetNo,
      ack_packet_no: ack,
      schema_version: endpoint.plan.schemaVersion,
    });
    await client.query('delete from ferry_exchange_outbox where node_id = $1', [central.id]);
    await client.query('insert into ferry_exchange_outbox (node_id, packet_no, run_id, round, entities, envelope) values ($1, $2, $3, $4, $5, $6)', [
      central.id,
      packetNo,
      at.runId ?? null,
      at.round ?? null,
      entities,
      envelope,
    ]);
    await client.query('update ferry_exchange_nodes set sent_packet_no = $2 where id = $1', [central.id, packetNo]);
    await logPacket(client, { nodeId: central.id, direction: 'out', packetNo, ack, entities, outcome: 'built' });
    return { packetNo, entities };
  });
}

export interface Sent {
  replyPacketNo: number;
  /** the last packet of this node's that the central node has received */
  ack: number;
  replyEntities: number;
}

/** Sends the packet from the outbox and keeps the reply in the inbox. Sending it again is safe: the central node acknowledges a packet number it has, without applying it again. */
export async function send(endpoint: PeripheralEndpoint, packetNo: number): Promise<Sent> {
  const { self, central, envelope } = await inTransaction(endpoint.pool, async (client) => {
    const row = (await client.query<{ envelope: string }>('select o.envelope from ferry_exchange_outbox o join ferry_exchange_nodes n on n.id = o.node_id where n.is_central and o.packet_no = $1', [packetNo])).rows[0];
    if (!row) throw new Error(`packet ${packetNo} of node "${endpoint.code}" is no longer in the outbox (a newer one was collected): collect again`);
    return { self: await requireSelf(client, `node "${endpoint.code}"`), central: await lockCentral(client), envelope: row.envelope };
  });
  const res = await (endpoint.post ?? httpPost)(endpoint.centralUrl, endpoint.token, envelope);
  if (res.status !== 200) throw refused(endpoint.code, res.status, res.body);
  const reply = parseEnvelope(endpoint.plan, res.body);
  const h = reply.header;
  if (!endpoint.plan.knownSchemaVersions.includes(h.schema_version)) throw schemaMismatch(h.schema_version, endpoint.plan.knownSchemaVersions, `node "${endpoint.code}", reply ${h.packet_no} of the central node`);
  if (h.sender_node_id !== central.id || h.recipient_node_id !== self.id) {
    throw new ExchangeProtocolError(`the reply to node "${endpoint.code}" is from ${h.sender_node_id} to ${h.recipient_node_id}, not from the central node ${central.id} to ${self.id}`);
  }
  await inTransaction(endpoint.pool, async (client) => {
    await client.query('insert into ferry_exchange_inbox (node_id, packet_no, entities, envelope) values ($1, $2, $3, $4) on conflict do nothing', [central.id, h.packet_no, reply.entities, res.body]);
    await client.query('update ferry_exchange_nodes set last_exchange_out = now() where id = $1', [central.id]);
  });
  return { replyPacketNo: h.packet_no, ack: h.ack_packet_no, replyEntities: reply.entities };
}

/** Drops this node's changes the central node acknowledged. */
export async function acknowledge(endpoint: PeripheralEndpoint, ack: number): Promise<number> {
  return inTransaction(endpoint.pool, async (client) => dropAcknowledged(client, (await lockCentral(client)).id, ack));
}

export interface Applied extends ApplyStats {
  /** the packet had been applied before (a retried activity) */
  alreadyApplied: boolean;
}

/** Applies the central node's reply from the inbox, in one transaction, once. */
export async function applyReply(endpoint: PeripheralEndpoint, packetNo: number): Promise<Applied> {
  return inTransaction(endpoint.pool, async (client) => {
    const central = await lockCentral(client);
    if (packetNo <= Number(central.received_packet_no)) return { ...zeroApplyStats(), alreadyApplied: true };
    const row = (await client.query<{ envelope: string }>('select envelope from ferry_exchange_inbox where node_id = $1 and packet_no = $2', [central.id, packetNo])).rows[0];
    if (!row) throw new Error(`reply ${packetNo} of the central node is not in node "${endpoint.code}"'s inbox: send again`);
    const stats = await applyPacket(client, { plan: endpoint.plan, sender: central, packetNo, selfIsCentral: false }, row.envelope);
    await client.query('update ferry_exchange_nodes set received_packet_no = $2, last_exchange_in = now() where id = $1', [central.id, packetNo]);
    await client.query('delete from ferry_exchange_inbox where node_id = $1 and packet_no <= $2', [central.id, packetNo]);
    await logPacket(client, { nodeId: central.id, direction: 'in', packetNo, ack: 0, entities: stats.entities, outcome: 'applied' });
    return { ...stats, alreadyApplied: false };
  });
}

export interface RoundsSummary {
  rounds: number;
  sent: number;
  received: number;
  stats: ApplyStats;
}

/**
 * A whole exchange without Temporal (the example, the randomised test, the
 * benchmark): rounds of collect, send, acknowledge, apply until a round moves
 * nothing either way — that last round carries the acknowledgement of the
 * previous reply, so both queues end empty.
 */
export async function exchangeRounds(endpoint: PeripheralEndpoint, maxRounds = 10_000): Promise<RoundsSummary> {
  const summary: RoundsSummary = { rounds: 0, sent: 0, received: 0, stats: zeroApplyStats() };
  for (let round = 0; round < maxRounds; round++) {
    const c = await collect(endpoint);
    const s = await send(endpoint, c.packetNo);
    await acknowledge(endpoint, s.ack);
    const a = await applyReply(endpoint, s.replyPacketNo);
    summary.rounds += 1;
    summary.sent += c.entities;
    summary.received += s.replyEntities;
    for (const k of Object.keys(summary.stats) as (keyof ApplyStats)[]) summary.stats[k] += a[k];
    if (c.entities === 0 && s.replyEntities === 0) return summary;
  }
  return summary;
}
