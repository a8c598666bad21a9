import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ExchangePlan } from './define-exchange.js';
import { ExchangeConfigurationError } from './errors.js';
import { inTransaction } from './tx.js';

/** The node registry (ferry_exchange_nodes) of one node's database: itself and its peers. */
export interface NodeRow {
  id: string;
  code: string;
  name: string;
  is_self: boolean;
  is_central: boolean;
  last_exchange_in: string | null;
  last_exchange_out: string | null;
  /** int8 as text, as pg returns it */
  received_packet_no: string;
  sent_packet_no: string;
  acked_packet_no: string;
}

const NODE_COLUMNS = 'id::text, code, name, is_self, is_central, last_exchange_in::text, last_exchange_out::text, received_packet_no, sent_packet_no, acked_packet_no';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

type Queryable = Pick<pg.PoolClient, 'query'> | pg.Pool;

export async function selfNode(db: Queryable): Promise<NodeRow | undefined> {
  return (await db.query<NodeRow>(`select ${NODE_COLUMNS} from ferry_exchange_nodes where is_self`)).rows[0];
}

export async function requireSelf(db: Queryable, what: string): Promise<NodeRow> {
  const self = await selfNode(db);
  if (!self) throw new ExchangeConfigurationError(`${what}: this database is not set up as an exchange node`, 'run ferry exchange init (peripheral) or ferry nodes add (central) first');
  return self;
}

/** A peer by token, locked for the exchange (one exchange per node at a time). */
export async function lockPeerByToken(client: pg.PoolClient, token: string): Promise<NodeRow | undefined> {
  return (await client.query<NodeRow>(`select ${NODE_COLUMNS} from ferry_exchange_nodes where token_hash = $1 and not is_self for update`, [hashToken(token)])).rows[0];
}

/** The central node as a peripheral database knows it, locked. */
export async function lockCentral(client: pg.PoolClient): Promise<NodeRow> {
  const row = (await client.query<NodeRow>(`select ${NODE_COLUMNS} from ferry_exchange_nodes where is_central and not is_self for update`)).rows[0];
  if (!row) throw new ExchangeConfigurationError('this database knows no central node', 'run ferry exchange init <node> (or an exchange, which sets it up) first');
  return row;
}

export async function listNodes(db: Queryable): Promise<NodeRow[]> {
  return (await db.query<NodeRow>(`select ${NODE_COLUMNS} from ferry_exchange_nodes order by is_self desc, code`)).rows;
}

/** Pending changes per peer (and how many of them are already in a packet sent but not acknowledged). */
export async function pendingByNode(db: Queryable): Promise<Map<string, { pending: number; inFlight: number }>> {
  const r = await db.query<{ node_id: string; pending: string; in_flight: string }>(
    'select node_id::text, count(*) as pending, count(packet_no) as in_flight from ferry_exchange_changes group by node_id',
  );
  return new Map(r.rows.map((x) => [x.node_id, { pending: Number(x.pending), inFlight: Number(x.in_flight) }]));
}

export interface AddedNode {
  id: string;
  code: string;
  /** shown once: the central node keeps only its hash */
  token: string;
  /** entities registered for the node's initial load */
  initialLoad: number;
}

/**
 * Registers a peripheral node on the central database and queues the central
 * node's full current data for it (its initial load, sent in bounded packets
 * by its first exchanges).
 */
export async function addNode(pool: pg.Pool, plan: ExchangePlan, node: { code: string; name?: string; token?: string }): Promise<AddedNode> {
  const token = node.token ?? randomBytes(24).toString('base64url');
  const id = randomUUID();
  return inTransaction(pool, async (client) => {
    const self = await requireSelf(client, 'ferry nodes add');
    if (!self.is_central) throw new ExchangeConfigurationError(`nodes are added on the central database; this one is node "${self.code}"`);
    const clash = await client.query('select 1 from ferry_exchange_nodes where code = $1', [node.code]);
    if (clash.rowCount) throw new ExchangeConfigurationError(`node "${node.code}" already exists`, 'pick another code, or remove it first (ferry nodes remove)');
    await client.query('insert into ferry_exchange_nodes (id, code, name, token_hash) values ($1, $2, $3, $4)', [id, node.code, node.name ?? node.code, hashToken(token)]);
    let initialLoad = 0;
    for (const e of plan.entities) {
      const r = await client.query(
        `insert into ferry_exchange_changes (node_id, entity_type, entity_uuid, operation) select $1, $2, h."uuid", 'INSERT' from ${e.sqlTable} h order by h."uuid" on conflict do nothing`,
        [id, e.type],
      );
      initialLoad += r.rowCount ?? 0;
    }
    return { id, code: node.code, token, initialLoad };
  });
}

/** Removes a peer and its queue; its token stops working at once. */
export async function removeNode(pool: pg.Pool, code: string): Promise<boolean> {
  const r = await pool.query('delete from ferry_exchange_nodes where code = $1 and not is_self', [code]);
  return (r.rowCount ?? 0) > 0;
}

/** A peripheral database learns the central node's identity (from the central node, on its first exchange). */
export async function ensureCentralPeer(pool: pg.Pool, central: { id: string; code: string }): Promise<void> {
  await inTransaction(pool, async (client) => {
    const known = (await client.query<{ id: string; code: string }>('select id::text, code from ferry_exchange_nodes where is_central and not is_self')).rows[0];
    if (known && known.id !== central.id) {
      throw new ExchangeConfigurationError(`this database exchanges with central node "${known.code}" (${known.id}), not "${central.code}" (${central.id})`, 'point the node at its own central node');
    }
    if (!known) await client.query('insert into ferry_exchange_nodes (id, code, name, is_central) values ($1, $2, $2, true)', [central.id, central.code]);
  });
}
