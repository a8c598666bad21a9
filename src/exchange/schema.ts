import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../connectors/postgres/identifiers.js';
import type { ExchangePlan } from './define-exchange.js';
import { ExchangeConfigurationError } from './errors.js';

/**
 * The exchange's own tables and triggers, installed in each node's database
 * (central and peripheral alike) — not in ferry's state store: the queue of
 * changes must commit in the same transaction as the business rows that the
 * triggers see, and the packet numbers must commit with the rows a packet
 * applied. So the exchange keeps its own small installer instead of a kysely
 * migration of the state store: versioned steps, recorded in
 * ferry_exchange_installed, never edited once released (append a step).
 *
 * Tables:
 *   ferry_exchange_nodes      this node (is_self) and its peers; packet numbers and last exchange per peer
 *   ferry_exchange_changes    one pending change per (peer, entity type, uuid): the coalescing queue
 *   ferry_exchange_outbox     the packet being sent to a peer (re-sent byte for byte on retry)
 *   ferry_exchange_inbox      a reply received and not yet applied (the claim check of the workflow)
 *   ferry_exchange_packets    a log of packets sent and received (applied or acknowledged as duplicate)
 *   ferry_exchange_conflicts  every conflict: both versions, the result, the winner, the policy
 */

const STEPS: readonly string[] = [
  // 1: the exchange tables and the change-registration trigger function
  `
  create table if not exists ferry_exchange_nodes (
    id uuid primary key,
    code text not null unique,
    name text not null default '',
    is_self boolean not null default false,
    is_central boolean not null default false,
    token_hash text unique,
    created_at timestamptz not null default now(),
    last_exchange_in timestamptz,
    last_exchange_out timestamptz,
    received_packet_no bigint not null default 0,
    sent_packet_no bigint not null default 0,
    acked_packet_no bigint not null default 0,
    -- the highest change id ever put in a packet to this peer: acknowledged changes all lie
    -- below it, so dropping them scans the sent part of the queue, not a long backlog
    sent_change_id bigint not null default 0
  );
  create unique index if not exists ferry_exchange_nodes_one_self on ferry_exchange_nodes (is_self) where is_self;
  create table if not exists ferry_exchange_changes (
    id bigserial primary key,
    node_id uuid not null references ferry_exchange_nodes (id) on delete cascade,
    entity_type text not null,
    entity_uuid uuid not null,
    operation text not null,
    packet_no bigint,
    base jsonb,
    changed_at timestamptz not null default now(),
    unique (node_id, entity_type, entity_uuid)
  ) with (fillfactor = 50); -- room on each page: marking changes with their packet number stays a HOT update
  create index if not exists ferry_exchange_changes_queue on ferry_exchange_changes (node_id, id);
  create table if not exists ferry_exchange_outbox (
    node_id uuid not null references ferry_exchange_nodes (id) on delete cascade,
    packet_no bigint not null,
    run_id text,
    round integer,
    entities integer not null,
    envelope text not null,
    created_at timestamptz not null default now(),
    primary key (node_id, packet_no)
  );
  create table if not exists ferry_exchange_inbox (
    node_id uuid not null references ferry_exchange_nodes (id) on delete cascade,
    packet_no bigint not null,
    entities integer not null,
    envelope text not null,
    received_at timestamptz not null default now(),
    primary key (node_id, packet_no)
  );
  -- packets are megabytes of JSON written once and read once: not worth compressing
  alter table ferry_exchange_outbox alter column envelope set storage external;
  alter table ferry_exchange_inbox alter column envelope set storage external;
  create table if not exists ferry_exchange_packets (
    id bigserial primary key,
    node_id uuid not null,
    direction text not null,
    packet_no bigint not null,
    ack_packet_no bigint not null,
    entities integer not null,
    outcome text not null,
    at timestamptz not null default now()
  );
  create table if not exists ferry_exchange_conflicts (
    id bigserial primary key,
    detected_at timestamptz not null default now(),
    peer_node_id uuid not null,
    peer_code text not null,
    packet_no bigint not null,
    entity_type text not null,
    entity_uuid uuid not null,
    kind text not null,
    policy text not null,
    winner text not null,
    local_version jsonb not null,
    incoming_version jsonb not null,
    result jsonb not null
  );
  create index if not exists ferry_exchange_conflicts_entity on ferry_exchange_conflicts (entity_type, entity_uuid);

  -- Row level, before: stamps updated_at on a local change that did not set it (an applied
  -- change keeps the sender's), and refuses physical deletes.
  create or replace function ferry_exchange_stamp() returns trigger language plpgsql as $fn$
  begin
    if tg_op = 'DELETE' then
      raise exception 'ferry exchange: rows of % are exchanged and never deleted physically', tg_table_name
        using hint = 'set is_deleted = true instead: a soft delete is exchanged like any change';
    end if;
    if coalesce(current_setting('ferry.applying_from', true), '') = '' then
      if tg_op = 'INSERT' then
        if NEW.updated_at is null then NEW.updated_at := clock_timestamp(); end if;
      elsif NEW.updated_at is not distinct from OLD.updated_at and to_jsonb(NEW) <> to_jsonb(OLD) then
        NEW.updated_at := clock_timestamp();
      end if;
    end if;
    return NEW;
  end
  $fn$;

  -- Statement level, after (transition tables: one set-based insert per statement): registers
  -- the changed entities for every peer except the one the change is applied from
  -- (ferry.applying_from: no echo). One row per (peer, entity, uuid): a row changed ten times
  -- travels once, in its latest state. Arguments: the entity type; for a line table, its
  -- parent column (the entity is the line's parent). base: the header row before the first
  -- change not yet sent (for column-level merge).
  create or replace function ferry_exchange_register() returns trigger language plpgsql as $fn$
  declare
    applying text := coalesce(current_setting('ferry.applying_from', true), '');
    entity_column text := case when tg_argv[1] = '' then 'uuid' else tg_argv[1] end;
    changed text;
  begin
    if not exists (select 1 from ferry_exchange_nodes n where not n.is_self and n.id::text <> applying) then
      return null; -- nobody to tell (a desktop applying the central node's packet)
    end if;
    if tg_op = 'INSERT' then
      changed := format('select distinct r.%I as entity, %L::text as op, null::jsonb as base from new_rows r', entity_column, case when tg_argv[1] = '' then 'INSERT' else 'UPDATE' end);
    elsif tg_argv[1] = '' then
      changed := 'select r.uuid as entity, ''UPDATE''::text as op, to_jsonb(o) as base from new_rows r join old_rows o on o.uuid = r.uuid where to_jsonb(r) <> to_jsonb(o)';
    else
      changed := format('select distinct r.%I as entity, ''UPDATE''::text as op, null::jsonb as base from new_rows r join old_rows o on o.uuid = r.uuid where to_jsonb(r) <> to_jsonb(o)', entity_column);
    end if;
    execute format(
      'insert into ferry_exchange_changes as c (node_id, entity_type, entity_uuid, operation, base)
       select n.id, $1, x.entity, x.op, x.base from (%s) x cross join ferry_exchange_nodes n
       where not n.is_self and n.id::text <> $2
       on conflict (node_id, entity_type, entity_uuid) do update
         set packet_no = null,
             changed_at = now(),
             operation = case when c.packet_no is null then c.operation else excluded.operation end,
             base = coalesce(c.base, excluded.base)', changed)
      using tg_argv[0], applying;
    return null;
  end
  $fn$;
  `,
];

export interface SelfNode {
  code: string;
  name?: string;
  /** the node's id; default: a new uuid (a peripheral takes the id the central node gave it) */
  id?: string;
  isCentral: boolean;
}

async function checkTable(client: pg.PoolClient, table: string, columns: readonly string[], what: string): Promise<void> {
  const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : [null, table];
  const found = await client.query<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns where table_name = $1 and table_schema = coalesce($2, current_schema())`,
    [name, schema],
  );
  if (!found.rows.length) throw new ExchangeConfigurationError(`${what}: table ${table} does not exist in this database`, 'create it before installing the exchange');
  const have = new Map(found.rows.map((r) => [r.column_name, r.data_type]));
  const missing = columns.filter((c) => !have.has(c));
  if (missing.length) throw new ExchangeConfigurationError(`${what}: table ${table} has no column ${missing.join(', ')}`, 'every exchanged table needs uuid, updated_at, is_deleted and the declared columns');
  if (have.get('uuid') !== 'uuid') throw new ExchangeConfigurationError(`${what}: ${table}.uuid is ${have.get('uuid')}, not uuid`);
  if (have.get('updated_at') !== 'timestamp with time zone') throw new ExchangeConfigurationError(`${what}: ${table}.updated_at must be timestamptz (UTC instants)`);
  const unique = await client.query(
    `select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
     where i.indrelid = $1::regclass and i.indisunique and i.indnatts = 1 and a.attname = 'uuid' and i.indpred is null`,
    [table],
  );
  if (!unique.rowCount) throw new ExchangeConfigurationError(`${what}: ${table}.uuid has no unique index`, `add one: create unique index on ${table} (uuid)`);
}

/** The three triggers of an exchanged table (replaced, so a changed plan takes effect). */
async function installTriggers(client: pg.PoolClient, sqlTable: string, type: string, parent: string): Promise<void> {
  for (const name of ['ferry_exchange_stamp', 'ferry_exchange_register_insert', 'ferry_exchange_register_update']) await client.query(`drop trigger if exists ${name} on ${sqlTable}`);
  const args = `'${type}', '${parent}'`;
  await client.query(`create trigger ferry_exchange_stamp before insert or update or delete on ${sqlTable} for each row execute function ferry_exchange_stamp()`);
  await client.query(`create trigger ferry_exchange_register_insert after insert on ${sqlTable} referencing new table as new_rows for each statement execute function ferry_exchange_register(${args})`);
  await client.query(
    `create trigger ferry_exchange_register_update after update on ${sqlTable} referencing old table as old_rows new table as new_rows for each statement execute function ferry_exchange_register(${args})`,
  );
}

/**
 * Installs (or brings up to date) the exchange tables, this node's identity
 * and the triggers on every exchanged table. Idempotent, and safe to run from
 * several processes at once (an advisory lock).
 */
export async function installExchange(pool: pg.Pool, plan: ExchangePlan, self: SelfNode): Promise<{ selfId: string }> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('ferry_exchange_install'))`);
    await client.query('create table if not exists ferry_exchange_installed (step integer primary key, installed_at timestamptz not null default now())');
    const done = new Set((await client.query<{ step: number }>('select step from ferry_exchange_installed')).rows.map((r) => r.step));
    for (const [i, ddl] of STEPS.entries()) {
      if (done.has(i + 1)) continue;
      await client.query(ddl);
      await client.query('insert into ferry_exchange_installed (step) values ($1)', [i + 1]);
    }
    for (const e of plan.entities) {
      await checkTable(client, e.table, e.columns, `entity ${e.type}`);
      await installTriggers(client, e.sqlTable, e.type, '');
      for (const l of e.lines) {
        await checkTable(client, l.table, l.columns, `entity ${e.type}, lines ${l.name}`);
        await client.query(`create index if not exists ${quoteIdent(`ferry_${l.table.replace(/\W/g, '_')}_${l.parent}`.slice(0, 63), 'index')} on ${l.sqlTable} (${quoteIdent(l.parent, 'column')})`);
        await installTriggers(client, l.sqlTable, e.type, l.parent);
      }
    }
    const existing = await client.query<{ id: string; code: string; is_central: boolean }>('select id, code, is_central from ferry_exchange_nodes where is_self');
    let selfId: string;
    if (existing.rows[0]) {
      const row = existing.rows[0];
      if (row.code !== self.code || row.is_central !== self.isCentral || (self.id && self.id !== row.id)) {
        throw new ExchangeConfigurationError(
          `this database is exchange node "${row.code}" (${row.is_central ? 'central' : 'peripheral'}, id ${row.id}), not "${self.code}"${self.id ? ` (id ${self.id})` : ''}`,
          'point the node at its own database, or use the code this database was set up with',
        );
      }
      selfId = row.id;
    } else {
      selfId = self.id ?? randomUUID();
      await client.query('insert into ferry_exchange_nodes (id, code, name, is_self, is_central) values ($1, $2, $3, true, $4)', [selfId, self.code, self.name ?? self.code, self.isCentral]);
    }
    await client.query('commit');
    return { selfId };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
