import { sql, type Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ferry_bindings')
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('record_key', 'text', (c) => c.notNull())
    .addColumn('internal_id', 'text')
    .addColumn('version', 'text')
    .addColumn('last_seen_run', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('ferry_bindings_pk', ['stream', 'system', 'record_key'])
    .execute();

  await db.schema
    .createTable('ferry_checkpoints')
    .addColumn('stream', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'jsonb', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('ferry_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('batches', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('message', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('ferry_runs_stream_started').on('ferry_runs').columns(['stream', 'started_at desc']).execute();

  await db.schema
    .createTable('ferry_dead_letters')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('record_key', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('issues', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('raw', 'jsonb', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('first_failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('ferry_dead_letters_record', ['stream', 'system', 'record_key'])
    .execute();

  await db.schema
    .createTable('ferry_staging')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('payload', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('ferry_staging_pk', ['batch_id', 'stage'])
    .execute();
  await db.schema.createIndex('ferry_staging_run').on('ferry_staging').column('run_id').execute();
  // Staged batches are written once and read soon after: compressing them costs more than it saves.
  await sql`alter table ferry_staging alter column payload set storage external`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['ferry_staging', 'ferry_dead_letters', 'ferry_runs', 'ferry_checkpoints', 'ferry_bindings']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
