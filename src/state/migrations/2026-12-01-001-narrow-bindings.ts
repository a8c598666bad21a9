import { sql, type Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

/**
 * Bindings take less room than the target rows they describe: each row names
 * its (stream, system) by a small integer instead of repeating both texts in
 * the row and in the key index, and drops updated_at, which nothing read.
 * `ferry_bindings` stays, as a read-only view of the same columns, for people
 * and scripts that query it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ferry_binding_scopes')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addUniqueConstraint('ferry_binding_scopes_stream_system', ['stream', 'system'])
    .execute();

  await db.schema
    .createTable('ferry_binding_keys')
    .addColumn('scope_id', 'integer', (c) => c.notNull())
    .addColumn('record_key', 'text', (c) => c.notNull())
    .addColumn('internal_id', 'text')
    .addColumn('version', 'text')
    .addColumn('last_seen_run', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ferry_binding_keys_pk', ['scope_id', 'record_key'])
    .execute();

  await sql`insert into ferry_binding_scopes (stream, system) select distinct stream, system from ferry_bindings order by 1, 2`.execute(db);
  await sql`
    insert into ferry_binding_keys (scope_id, record_key, internal_id, version, last_seen_run)
    select s.id, b.record_key, b.internal_id, b.version, b.last_seen_run
    from ferry_bindings b join ferry_binding_scopes s on s.stream = b.stream and s.system = b.system`.execute(db);
  await db.schema.dropTable('ferry_bindings').execute();
  await sql`
    create view ferry_bindings as
    select s.stream, s.system, b.record_key, b.internal_id, b.version, b.last_seen_run
    from ferry_binding_keys b join ferry_binding_scopes s on s.id = b.scope_id`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`create table ferry_bindings_wide as select *, now() as updated_at from ferry_bindings`.execute(db);
  await sql`drop view ferry_bindings`.execute(db);
  await db.schema.dropTable('ferry_binding_keys').execute();
  await db.schema.dropTable('ferry_binding_scopes').execute();
  await sql`alter table ferry_bindings_wide rename to ferry_bindings`.execute(db);
  await sql`alter table ferry_bindings add constraint ferry_bindings_pk primary key (stream, system, record_key)`.execute(db);
  await sql`alter table ferry_bindings alter column updated_at set default now()`.execute(db);
}
