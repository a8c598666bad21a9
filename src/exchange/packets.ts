import { parse, stringify } from 'lossless-json';
import type pg from 'pg';
import type { EntityPlan, ExchangePlan } from './define-exchange.js';
import { renderEnvelope, type PacketHeader } from './envelope.js';
import type { NodeRow } from './nodes.js';
import { policyName, resolveConflict, type ConflictKind, type EntityDoc } from './policies.js';
import { docExpression, headerExpression, wireDocExpression, writeStatements } from './sql.js';

/**
 * Building and applying packets, inside a transaction the caller owns (on the
 * central node, the whole handshake is one transaction; on a peripheral node,
 * collect and apply are one each).
 */

/**
 * The next packet to `peer`: its oldest pending changes, at most
 * plan.packetSize entities, each in its current state, marked with the packet
 * number (a change made after this is marked unsent again by the trigger).
 */
export async function buildPacket(client: pg.PoolClient, plan: ExchangePlan, header: PacketHeader): Promise<{ envelope: string; entities: number }> {
  const picked = await client.query<{ id: string; entity_type: string; uuid: string; operation: string }>(
    `with picked as (select id from ferry_exchange_changes where node_id = $1 order by id limit $2)
     update ferry_exchange_changes c set packet_no = $3 from picked where c.id = picked.id
     returning c.id, c.entity_type, c.entity_uuid::text as uuid, c.operation`,
    [header.recipient_node_id, plan.packetSize, header.packet_no],
  );
  const highest = picked.rows.reduce((max, r) => (BigInt(r.id) > max ? BigInt(r.id) : max), 0n);
  if (highest > 0n) {
    await client.query('update ferry_exchange_nodes set sent_change_id = greatest(sent_change_id, $2) where id = $1', [header.recipient_node_id, highest.toString()]);
  }
  const byType = new Map<string, { uuids: string[]; ops: string[] }>();
  for (const r of picked.rows) {
    const t = byType.get(r.entity_type) ?? { uuids: [], ops: [] };
    t.uuids.push(r.uuid);
    t.ops.push(r.operation);
    byType.set(r.entity_type, t);
  }
  const parts: string[] = [];
  let entities = 0;
  for (const [type, { uuids, ops }] of byType) {
    const entity = plan.entity(type);
    if (!entity) continue; // a type no longer in the plan: dropped when this packet is acknowledged
    const r = await client.query<{ n: number; entities: string }>(
      `select count(*)::int as n, coalesce(json_agg(json_build_object('type', $1::text, 'uuid', h."uuid", 'operation',
         case when h."is_deleted" then 'DELETE' else p.op end, 'data', ${wireDocExpression(entity)})), '[]'::json)::text as entities
       from unnest($2::uuid[], $3::text[]) p(uuid, op)
       -- by index, one row per change: a hash join would read the whole table for every packet of a long backlog
       cross join lateral (select * from ${entity.sqlTable} x where x."uuid" = p.uuid) h`,
      [type, uuids, ops],
    );
    const row = r.rows[0]!;
    entities += row.n;
    if (row.n) parts.push(row.entities.slice(1, -1));
  }
  return { envelope: renderEnvelope(header, `[${parts.join(',')}]`), entities };
}

export interface ApplyStats {
  entities: number;
  inserted: number;
  updated: number;
  /** already identical here */
  unchanged: number;
  /** of the written rows, those now soft-deleted */
  deleted: number;
  conflicts: number;
}

export const zeroApplyStats = (): ApplyStats => ({ entities: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0, conflicts: 0 });

interface ConflictRow {
  uuid: string;
  local_doc: string;
  incoming_doc: string;
  base: string | null;
}

export interface ApplyContext {
  plan: ExchangePlan;
  sender: NodeRow;
  packetNo: number;
  /** this node is the central one (decides which side 'central-wins' favours) */
  selfIsCentral: boolean;
}

/** Classifies the incoming entities of one type: 'skip' (identical here), 'write' (changed only there) or 'conflict'. */
async function classify(client: pg.PoolClient, entity: EntityPlan, senderId: string): Promise<void> {
  // The short DELETE form (data null): the local row, soft-deleted.
  await client.query(
    `update ferry_incoming i set data = (select ${docExpression(entity)} || jsonb_build_object('is_deleted', true) from ${entity.sqlTable} h where h."uuid" = i.uuid)
     where i.type = $1 and i.data is null`,
    [entity.type],
  );
  await client.query(`delete from ferry_incoming where type = $1 and data is null`, [entity.type]);
  // Only an entity this node also changed for the sender (a pending change) needs its local
  // version built and compared; every other one is written, and the upsert skips rows that
  // would not change.
  await client.query(
    `update ferry_incoming i
     set pending = true,
         local_doc = (select ${docExpression(entity)} from ${entity.sqlTable} h where h."uuid" = i.uuid),
         base = (select ${headerExpression(entity, 'b')} from jsonb_populate_record(null::${entity.sqlTable}, c.base) b where c.base is not null)
     from ferry_exchange_changes c
     where i.type = $1 and c.node_id = $2 and c.entity_type = i.type and c.entity_uuid = i.uuid`,
    [entity.type, senderId],
  );
  await client.query(
    `update ferry_incoming set action = case when local_doc is null then 'write' when local_doc = data then 'skip' else 'conflict' end where type = $1 and pending`,
    [entity.type],
  );
}

/**
 * Applies the entities of a packet from `sender` (the packet's envelope text):
 * an entity changed only on the sender's side is written as it came; one both
 * sides changed since their last exchange (this node still has a pending change
 * for the sender) is a conflict, settled by the entity's policy and logged.
 * Writes run with ferry.applying_from = sender, so the triggers register them
 * for every other node but not back to the sender (no echo). The caller's
 * transaction makes the packet all or nothing.
 */
export async function applyPacket(client: pg.PoolClient, ctx: ApplyContext, envelope: string): Promise<ApplyStats> {
  const stats = zeroApplyStats();
  const { plan, sender } = ctx;
  await client.query(
    `create temp table ferry_incoming (type text not null, uuid uuid not null, operation text, data jsonb, action text not null default 'write', pending boolean not null default false, local_doc jsonb, base jsonb, primary key (type, uuid)) on commit drop`,
  );
  const loaded = await client.query(
    // parseEnvelope checked the packet names each entity once
    `insert into ferry_incoming (type, uuid, operation, data)
     select e->>'type', (e->>'uuid')::uuid, e->>'operation', nullif(e->'data', 'null'::jsonb)
     from jsonb_array_elements($1::jsonb->'body'->'entities') e`,
    [envelope],
  );
  stats.entities = loaded.rowCount ?? 0;
  if (!stats.entities) return stats;
  const types = (await client.query<{ type: string }>('select distinct type from ferry_incoming order by type')).rows.map((r) => r.type);
  await client.query(`select set_config('ferry.applying_from', $1, true)`, [sender.id]);

  for (const type of types) {
    const entity = plan.entity(type);
    if (!entity) continue; // checked by the envelope schema already
    await classify(client, entity, sender.id);

    // Identical on both sides: nothing to write, and nothing left to send back.
    await client.query(
      `delete from ferry_exchange_changes c using ferry_incoming i
       where i.type = $1 and i.action = 'skip' and i.pending and c.node_id = $2 and c.entity_type = i.type and c.entity_uuid = i.uuid`,
      [type, sender.id],
    );

    const conflicts = (
      await client.query<ConflictRow>(`select uuid::text, local_doc::text, data::text as incoming_doc, base::text from ferry_incoming where type = $1 and action = 'conflict' order by uuid`, [type])
    ).rows;
    const resolved: { uuid: string; data: EntityDoc; sameAsIncoming: boolean }[] = [];
    const logged: Record<string, unknown>[] = [];
    for (const c of conflicts) {
      const local = parse(c.local_doc) as EntityDoc;
      const incoming = parse(c.incoming_doc) as EntityDoc;
      const kind: ConflictKind = Boolean(local.is_deleted) !== Boolean(incoming.is_deleted) ? 'delete-edit' : 'edit-edit';
      const { result, winner, sameAs } = resolveConflict(entity, {
        type,
        uuid: c.uuid,
        local,
        incoming,
        base: c.base ? (parse(c.base) as EntityDoc) : null,
        central: ctx.selfIsCentral ? 'local' : 'incoming',
        kind,
      });
      const sameAsIncoming = sameAs === (ctx.selfIsCentral ? 'peripheral' : 'central');
      resolved.push({ uuid: c.uuid, data: result, sameAsIncoming });
      logged.push({ uuid: c.uuid, kind, winner, local: c.local_doc, incoming: c.incoming_doc, result });
    }
    if (resolved.length) {
      await client.query(
        `update ferry_incoming i set data = r.data, action = 'write' from jsonb_to_recordset($2::jsonb) r(uuid uuid, data jsonb) where i.type = $1 and i.uuid = r.uuid`,
        [type, stringify(resolved.map((r) => ({ uuid: r.uuid, data: r.data })))],
      );
      await client.query(
        `insert into ferry_exchange_conflicts (peer_node_id, peer_code, packet_no, entity_type, entity_uuid, kind, policy, winner, local_version, incoming_version, result)
         select $1, $2, $3, $4, r.uuid, r.kind, $5, r.winner, r.local::jsonb, r.incoming::jsonb, r.result
         from jsonb_to_recordset($6::jsonb) r(uuid uuid, kind text, winner text, local text, incoming text, result jsonb)`,
        [sender.id, sender.code, ctx.packetNo, type, policyName(entity), stringify(logged)],
      );
      stats.conflicts += resolved.length;
    }

    const { header, lines } = writeStatements(entity);
    const written = await client.query<{ inserted: boolean; is_deleted: boolean }>(header, [type]);
    for (const r of written.rows) {
      if (r.inserted) stats.inserted += 1;
      else stats.updated += 1;
      if (r.is_deleted) stats.deleted += 1;
    }
    for (const sql of lines) await client.query(sql, [type]);

    if (resolved.length) {
      // The sender already has a result equal to its own version; any other result must go back to it.
      const back = resolved.filter((r) => !r.sameAsIncoming).map((r) => r.uuid);
      const settled = resolved.filter((r) => r.sameAsIncoming).map((r) => r.uuid);
      await client.query(`update ferry_exchange_changes set packet_no = null where node_id = $1 and entity_type = $2 and entity_uuid = any($3::uuid[])`, [sender.id, type, back]);
      await client.query(`delete from ferry_exchange_changes where node_id = $1 and entity_type = $2 and entity_uuid = any($3::uuid[])`, [sender.id, type, settled]);
    }
  }
  stats.unchanged = stats.entities - stats.inserted - stats.updated;
  await client.query(`select set_config('ferry.applying_from', '', true)`);
  await client.query('drop table ferry_incoming');
  return stats;
}

/** Drops this node's changes to `peer` that the peer acknowledged (packet number up to `ack`). */
export async function dropAcknowledged(client: pg.PoolClient, peerId: string, ack: number): Promise<number> {
  const r = await client.query(
    'delete from ferry_exchange_changes where node_id = $1 and id <= (select sent_change_id from ferry_exchange_nodes where id = $1) and packet_no <= $2',
    [peerId, ack],
  );
  await client.query('update ferry_exchange_nodes set acked_packet_no = greatest(acked_packet_no, $2) where id = $1', [peerId, ack]);
  return r.rowCount ?? 0;
}

export async function logPacket(client: pg.PoolClient, p: { nodeId: string; direction: 'in' | 'out'; packetNo: number; ack: number; entities: number; outcome: string }): Promise<void> {
  await client.query('insert into ferry_exchange_packets (node_id, direction, packet_no, ack_packet_no, entities, outcome) values ($1, $2, $3, $4, $5, $6)', [
    p.nodeId,
    p.direction,
    p.packetNo,
    p.ack,
    p.entities,
    p.outcome,
  ]);
}
