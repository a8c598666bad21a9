import { sql } from 'kysely';
import type { StateDb } from './db.js';

/**
 * Entity links of linked pairs (see links/pair-links.ts for the sides): one
 * row per entity, its key on each side, the version and significant field
 * values last synced on each side, and which direction wrote it last.
 */
export type Side = 'local' | 'remote';

export interface Link {
  id: string;
  localKey: string | null;
  remoteKey: string | null;
  localVersion: string | null;
  remoteVersion: string | null;
  localFields: Record<string, unknown> | null;
  remoteFields: Record<string, unknown> | null;
  lastWriter: string | null;
}

interface LinkRow {
  id: string;
  local_key: string | null;
  remote_key: string | null;
  local_version: string | null;
  remote_version: string | null;
  local_fields: Record<string, unknown> | null;
  remote_fields: Record<string, unknown> | null;
  last_writer: string | null;
}

const toLink = (r: LinkRow): Link => ({
  id: r.id,
  localKey: r.local_key,
  remoteKey: r.remote_key,
  localVersion: r.local_version,
  remoteVersion: r.remote_version,
  localFields: r.local_fields,
  remoteFields: r.remote_fields,
  lastWriter: r.last_writer,
});

/** The links of these keys on one side, by key. */
export async function loadLinks(db: StateDb, pair: string, side: Side, keys: readonly string[]): Promise<Map<string, Link>> {
  if (keys.length === 0) return new Map();
  const column = side === 'local' ? sql.ref('local_key') : sql.ref('remote_key');
  const { rows } = await sql<LinkRow>`
    select id, local_key, remote_key, local_version, remote_version, local_fields, remote_fields, last_writer
    from ferry_links where pair = ${pair} and ${column} = any(${keys}::text[])`.execute(db);
  return new Map(rows.map((r) => [side === 'local' ? (r.local_key as string) : (r.remote_key as string), toLink(r)]));
}

/** A link as a batch leaves it; `id` set: that link, else a new one. */
export interface LinkWrite {
  id: string | null;
  localKey: string | null;
  remoteKey: string | null;
  localVersion: string | null;
  remoteVersion: string | null;
  localFields: Record<string, unknown> | null;
  remoteFields: Record<string, unknown> | null;
  lastWriter: 'import' | 'export';
}

const json = (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v));

/**
 * Writes a batch's links: existing ones in one UPDATE, new ones in one
 * INSERT. A new link takes over a key another link held on either side
 * (the system now says that key is this entity), so keys stay unique.
 */
export async function writeLinks(db: StateDb, pair: string, writes: readonly LinkWrite[]): Promise<void> {
  const old = writes.filter((w) => w.id !== null);
  const fresh = writes.filter((w) => w.id === null);
  const cols = (ws: readonly LinkWrite[]) => ({
    l: ws.map((w) => w.localKey),
    r: ws.map((w) => w.remoteKey),
    lv: ws.map((w) => w.localVersion),
    rv: ws.map((w) => w.remoteVersion),
    lf: ws.map((w) => json(w.localFields)),
    rf: ws.map((w) => json(w.remoteFields)),
    w: ws.map((w) => w.lastWriter),
  });
  if (old.length) {
    const c = cols(old);
    await sql`
      update ferry_links k set local_key = u.l, remote_key = u.r, local_version = u.lv, remote_version = u.rv,
        local_fields = u.lf::jsonb, remote_fields = u.rf::jsonb, last_writer = u.w, synced_at = now()
      from unnest(${old.map((w) => w.id)}::bigint[], ${c.l}::text[], ${c.r}::text[], ${c.lv}::text[], ${c.rv}::text[], ${c.lf}::text[], ${c.rf}::text[], ${c.w}::text[])
        as u(id, l, r, lv, rv, lf, rf, w)
      where k.id = u.id`.execute(db);
  }
  if (fresh.length) {
    const c = cols(fresh);
    await sql`
      delete from ferry_links where pair = ${pair}
        and (local_key = any(${c.l.filter((k) => k !== null)}::text[]) or remote_key = any(${c.r.filter((k) => k !== null)}::text[]))`.execute(db);
    await sql`
      insert into ferry_links (pair, local_key, remote_key, local_version, remote_version, local_fields, remote_fields, last_writer)
      select ${pair}, u.l, u.r, u.lv, u.rv, u.lf::jsonb, u.rf::jsonb, u.w
      from unnest(${c.l}::text[], ${c.r}::text[], ${c.lv}::text[], ${c.rv}::text[], ${c.lf}::text[], ${c.rf}::text[], ${c.w}::text[]) as u(l, r, lv, rv, lf, rf, w)`.execute(db);
  }
}

/** A binding's internal id (B's id as B gave it) as a link key: serialized as core/key.ts serializeKey does (json, not jsonb: no spaces). */
const idAsKey = sql.raw(`case when internal_id is null then null else json_build_array(internal_id)::text end`);

/**
 * Moves the per-stream bindings of a stream that became part of a linked
 * pair into links, losing nothing: its record keys become the keys of the
 * side it reads, the bound internal ids those of the side it writes, its
 * versions the versions of the side it reads. Idempotent; one statement
 * per stream.
 */
export async function adoptBindings(db: StateDb, pair: string, stream: { name: string; system: string; sourceSide: Side }): Promise<number> {
  // The stream's record keys are keys of the side it reads; its bound internal ids, of the side it writes.
  const [read, written] = stream.sourceSide === 'local' ? (['local', 'remote'] as const) : (['remote', 'local'] as const);
  const readKey = sql.ref(`${read}_key`);
  const writtenKey = sql.ref(`${written}_key`);
  const readVersion = sql.ref(`${read}_version`);
  const { rows } = await sql<{ n: string }>`
    with moved as (
      delete from ferry_binding_keys where scope_id = (select id from ferry_binding_scopes where stream = ${stream.name} and system = ${stream.system})
      returning record_key, internal_id, version),
    put as (
      insert into ferry_links (pair, ${readKey}, ${writtenKey}, ${readVersion}, last_writer)
      select ${pair}, record_key, ${idAsKey}, version, ${read === 'local' ? 'export' : 'import'} from moved
      on conflict (pair, ${readKey}) where ${readKey} is not null
      do update set ${writtenKey} = coalesce(${sql.ref(`ferry_links.${written}_key`)}, excluded.${writtenKey}),
                    ${readVersion} = coalesce(${sql.ref(`ferry_links.${read}_version`)}, excluded.${readVersion})
      returning 1)
    select count(*) as n from put`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** `ferry reset` of a linked pair's stream: forgets the pair's links. */
export async function forgetLinks(db: StateDb, pair: string): Promise<number> {
  const r = await sql`delete from ferry_links where pair = ${pair}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
