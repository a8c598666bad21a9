// The site's side of the customers-1c example: its users table, with the story's
// sync columns, and what the site's own code does to it (register, log in, edit a
// profile) — the Django model and signals of the story, as SQL.
//   npx tsx examples/customers-1c/site.ts     (re)creates the table in CUSTOMERS_1C_DATABASE_URL
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { toE164 } from './mapping/phone.js';
import type { SiteRole } from './mapping/site-user.js';
import { ensureDatabase } from '../support/ensure-database.js';

export const DEFAULT_SITE_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ferry_customers_1c';

export function siteDatabaseUrl(): string {
  return process.env.CUSTOMERS_1C_DATABASE_URL ?? DEFAULT_SITE_DATABASE_URL;
}

/** Creates (or re-creates) the users table (the export reads it filtered: needs_1c_export and not created_in_1c). */
export async function createSiteTables(db: pg.ClientBase | pg.Pool): Promise<void> {
  await db.query(`
    drop view if exists users_to_1c; -- the filter this example used before postgresSource({ where })
    drop table if exists users;
    create table users (
      id                 bigserial primary key,
      email              text not null unique,
      first_name         text not null default '',
      last_name          text not null default '',
      company_name       text,
      tax_id             text,
      kpp                text,
      phone              text,
      role               text not null default 'customer' check (role in ('customer', 'wholesale', 'dealer')),
      birth_date         date,
      is_active          boolean not null default true,
      date_joined        timestamptz not null default now(),
      last_login         timestamptz,
      -- set by the site's code on every save (Django's auto_now), a login included
      updated_at         timestamptz not null default now(),
      -- sync with 1C (story 3.2.3)
      onec_id            uuid unique,
      sync_status        text not null default 'pending' check (sync_status in ('pending', 'synced', 'error')),
      needs_1c_export    boolean not null default true,
      last_sync_at       timestamptz,
      sync_error_message text not null default '',
      created_in_1c      boolean not null default false
    );
    create index users_updated_at on users (updated_at, id);`);
}

export interface Registration {
  email: string;
  first_name: string;
  last_name: string;
  company_name?: string | null;
  tax_id?: string | null;
  kpp?: string | null;
  phone?: string | null;
  role?: SiteRole;
  birth_date?: string | null;
}

/**
 * The site keeps phones as 1C does, in E.164 (its form field normalises what people type,
 * and refuses what is not a phone): then the value the import writes back is the value the
 * site already holds, and a conflict's field merge sees a phone change only where there is one.
 */
const sitePhone = (phone: string | null | undefined): string | null => (phone ? toE164(phone) : null);

/** A sign-up: the row is flagged for export (needs_1c_export defaults to true). Returns the new ids in order. */
export async function register(db: pg.Pool | pg.ClientBase, signUps: readonly Registration[]): Promise<string[]> {
  if (signUps.length === 0) return [];
  const people = signUps.map((p) => ({ ...p, phone: sitePhone(p.phone) }));
  const { rows } = await db.query<{ id: string }>(
    `insert into users (email, first_name, last_name, company_name, tax_id, kpp, phone, role, birth_date)
     select email, first_name, last_name, company_name, tax_id, kpp, phone, coalesce(role, 'customer'), birth_date
     from json_populate_recordset(null::users, $1::json) with ordinality as r
     order by ordinality
     returning id`,
    [JSON.stringify(people)],
  );
  return rows.map((r) => r.id);
}

/**
 * A login: last_login and updated_at move (auto_now), nothing the customer sees in 1C changes.
 * `flag`: a careless save() that flags the row for export anyway (the export reads it and skips it by its hash).
 */
export async function login(db: pg.Pool | pg.ClientBase, ids: readonly string[], flag = false): Promise<void> {
  await db.query(`update users set last_login = now(), updated_at = now()${flag ? ', needs_1c_export = true' : ''} where id = any($1::bigint[])`, [ids]);
}

/** A profile edit on the site: the row is flagged for export again (the story's post_save signal). */
export async function editProfile(db: pg.Pool | pg.ClientBase, id: string, changes: Partial<Registration>): Promise<void> {
  if (changes.phone !== undefined) changes = { ...changes, phone: sitePhone(changes.phone) };
  const columns = Object.keys(changes).filter((c) => ['email', 'first_name', 'last_name', 'company_name', 'tax_id', 'kpp', 'phone', 'role', 'birth_date'].includes(c));
  if (columns.length === 0) return;
  const sets = columns.map((c, i) => `${c} = $${i + 2}`).join(', ');
  await db.query(`update users set ${sets}, updated_at = now(), needs_1c_export = true, sync_status = 'pending' where id = $1`, [id, ...columns.map((c) => changes[c as keyof Registration] ?? null)]);
}

async function main(): Promise<void> {
  const url = siteDatabaseUrl();
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createSiteTables(client);
  } finally {
    await client.end();
  }
  process.stdout.write(`customers-1c: the site's users table is ready in ${url}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
