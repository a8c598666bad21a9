import { sql, type Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

/**
 * Entity links shared by the two streams of a pair, and the conflict log.
 *
 * A link is one entity across the pair's two systems: its key on the local
 * side (the system the pair's import writes into and its export reads from)
 * and on the remote side, the version (a hash of the significant fields) and
 * the values of those fields last synced on each side, and which direction
 * wrote it last. A null version means "not known": no conflict is assumed on
 * that side, and the side's next change is taken.
 *
 * Existing bindings of paired streams are moved into links when the pair
 * first runs (state/links.ts, adoptBindings): which streams form a pair is
 * declared in the configuration, which a migration must not read.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ferry_links')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('pair', 'text', (c) => c.notNull())
    .addColumn('local_key', 'text')
    .addColumn('remote_key', 'text')
    .addColumn('local_version', 'text')
    .addColumn('remote_version', 'text')
    .addColumn('local_fields', 'jsonb')
    .addColumn('remote_fields', 'jsonb')
    .addColumn('last_writer', 'text')
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index ferry_links_local on ferry_links (pair, local_key) where local_key is not null`.execute(db);
  await sql`create unique index ferry_links_remote on ferry_links (pair, remote_key) where remote_key is not null`.execute(db);

  await db.schema
    .createTable('ferry_conflicts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('pair', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('local_key', 'text')
    .addColumn('remote_key', 'text')
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('winner', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('incoming', 'jsonb', (c) => c.notNull())
    .addColumn('current', 'jsonb', (c) => c.notNull())
    .addColumn('base', 'jsonb')
    .addColumn('result', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ferry_conflicts_pair_created').on('ferry_conflicts').columns(['pair', 'created_at desc']).execute();
  // A retried batch logs its conflicts once.
  await sql`create unique index ferry_conflicts_once on ferry_conflicts (batch_id, stream, coalesce(local_key, ''), coalesce(remote_key, ''))`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ferry_conflicts').ifExists().execute();
  await db.schema.dropTable('ferry_links').ifExists().execute();
}
