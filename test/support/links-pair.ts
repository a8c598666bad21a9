// A linked pair for the links-* tests: a site's `users` table (Postgres) and a
// 1C-like customer table (Postgres too: these tests are about the engine's
// links, not the HTTP connector), an export stream users -> 1C with write-back
// and an import stream 1C -> users, both paging by updated_at and versioned by
// a hash of their significant fields. Each side bumps updated_at on every
// update (as a site's ORM and 1C's change registration do), so what one
// stream writes shows up in the other stream's next read: the echo to avoid.
import type pg from 'pg';
import { z } from 'zod';
import { defineStream, type StreamDefinition } from '../../src/config/define-stream.js';
import { postgresSource } from '../../src/connectors/postgres/source.js';
import { postgresTarget } from '../../src/connectors/postgres/target.js';
import type { ConflictPolicy } from '../../src/links/policies.js';

export const SIGNIFICANT = ['email', 'phone', 'first_name', 'last_name', 'role'] as const;

export interface PairTables {
  users: string;
  onec: string;
}

export async function createPairTables(pool: pg.Pool, suffix: string): Promise<PairTables> {
  const users = `users_${suffix}`;
  const onec = `onec_${suffix}`;
  await pool.query(`
    create extension if not exists pgcrypto;
    create table ${users} (
      id serial primary key, email text, phone text, first_name text, last_name text, role text not null default 'customer',
      last_login timestamptz, updated_at timestamptz not null default clock_timestamp(),
      needs_1c_export boolean not null default true, created_in_1c boolean not null default false,
      onec_id text unique, sync_status text, sync_error_message text, last_sync_at timestamptz);
    create or replace function ${users}_touch() returns trigger language plpgsql as $$
      begin new.updated_at := clock_timestamp(); return new; end $$;
    create trigger ${users}_touch before update on ${users} for each row execute function ${users}_touch();
    create table ${onec} (
      ref uuid primary key default gen_random_uuid(), platform_id text unique,
      email text check (email like '%@%'), phone text, first_name text, last_name text, role text,
      updated_at timestamptz not null default clock_timestamp(), revisions integer not null default 0);
    create or replace function ${onec}_touch() returns trigger language plpgsql as $$
      begin new.updated_at := clock_timestamp(); new.revisions := old.revisions + 1; return new; end $$;
    create trigger ${onec}_touch before update on ${onec} for each row execute function ${onec}_touch();`);
  return { users, onec };
}

const text = z.string().nullable();
const userSchema = z.object({ id: z.number().int(), email: text, phone: text, first_name: text, last_name: text, role: z.string() }).passthrough();
const onecSchema = z.object({ ref: z.string(), platform_id: text, email: text, phone: text, first_name: text, last_name: text, role: text }).passthrough();

export interface PairOptions {
  conflicts: ConflictPolicy;
  /** default true */
  writeBack?: boolean;
  /** the export's source filter; default 'not created_in_1c' */
  where?: string;
  /** batch size, timeouts and retries of both streams (crash tests) */
  tuning?: { batchSize?: number; timeouts?: { activity: string; heartbeat: string }; retry?: { maximumAttempts: number; initialInterval: string; maximumInterval?: string } };
}

export function pairStreams(pair: string, url: string, tables: PairTables, options: PairOptions): { exportStream: StreamDefinition; importStream: StreamDefinition } {
  const exportStream = defineStream({
    name: `${pair}.export`,
    pair,
    direction: 'export',
    source: postgresSource({ url, table: tables.users, system: 'site', cursor: { column: 'updated_at', kind: 'timestamp' }, where: options.where ?? 'not created_in_1c' }),
    schema: userSchema,
    map: (u) => ({ kind: 'customer', fields: { platform_id: String(u.id), email: u.email, phone: u.phone, first_name: u.first_name, last_name: u.last_name, role: u.role } }),
    target: postgresTarget({ url, table: tables.onec, key: 'platform_id', idColumn: 'ref', system: '1c' }),
    key: 'id',
    version: { fields: SIGNIFICANT },
    retry: { maximumAttempts: 3, initialInterval: '200ms' },
    ...options.tuning,
    ...(options.writeBack === false
      ? {}
      : {
          writeBack: {
            onSuccess: { onec_id: { from: 'targetId' }, sync_status: 'synced', needs_1c_export: false, last_sync_at: { from: 'now' }, sync_error_message: null },
            onFailure: { sync_status: 'error', sync_error_message: { from: 'error' }, last_sync_at: { from: 'now' } },
          },
        }),
  });
  const importStream = defineStream({
    name: `${pair}.import`,
    pair,
    direction: 'import',
    source: postgresSource({ url, table: tables.onec, system: '1c', cursor: { column: 'updated_at', kind: 'timestamp' } }),
    schema: onecSchema,
    map: (c) => ({
      kind: 'user',
      fields: { onec_id: c.ref, email: c.email, phone: c.phone, first_name: c.first_name, last_name: c.last_name, role: c.role ?? 'customer', created_in_1c: c.platform_id === null },
    }),
    target: postgresTarget({ url, table: tables.users, key: 'onec_id', idColumn: 'id', system: 'site' }),
    key: 'ref',
    version: { fields: SIGNIFICANT },
    retry: { maximumAttempts: 3, initialInterval: '200ms' },
    ...options.tuning,
    conflicts: options.conflicts,
  });
  return { exportStream, importStream };
}

export interface Customer {
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  role: string | null;
}

const pickCustomer = (r: Record<string, unknown>): Customer => ({
  email: r.email as string | null,
  phone: r.phone as string | null,
  first_name: r.first_name as string | null,
  last_name: r.last_name as string | null,
  role: r.role as string | null,
});

export async function siteUser(pool: pg.Pool, tables: PairTables, id: number) {
  const { rows } = await pool.query(`select * from ${tables.users} where id = $1`, [id]);
  return rows[0] as Record<string, unknown> & { onec_id: string | null; sync_status: string | null; sync_error_message: string | null; needs_1c_export: boolean; last_sync_at: Date | null; updated_at: Date };
}

export async function siteCustomer(pool: pg.Pool, tables: PairTables, id: number): Promise<Customer> {
  return pickCustomer(await siteUser(pool, tables, id));
}

export async function onecRow(pool: pg.Pool, tables: PairTables, platformId: string) {
  const { rows } = await pool.query(`select *, ref::text as ref from ${tables.onec} where platform_id = $1`, [platformId]);
  return rows[0] as (Record<string, unknown> & { ref: string; revisions: number; updated_at: Date }) | undefined;
}

export async function onecCustomer(pool: pg.Pool, tables: PairTables, platformId: string): Promise<Customer> {
  const row = await onecRow(pool, tables, platformId);
  if (!row) throw new Error(`no 1C customer for platform id ${platformId}`);
  return pickCustomer(row);
}

export async function addUser(pool: pg.Pool, tables: PairTables, c: Partial<Customer>): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `insert into ${tables.users} (email, phone, first_name, last_name) values ($1, $2, $3, $4) returning id`,
    [c.email ?? null, c.phone ?? null, c.first_name ?? null, c.last_name ?? null],
  );
  return (rows[0] as { id: number }).id;
}
