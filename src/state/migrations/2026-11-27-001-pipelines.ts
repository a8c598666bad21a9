import { sql, type Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

/**
 * One row per pipeline run. `steps` holds, per step, what it did: its streams'
 * workflow ids, ferry run ids, statuses, counts and errors. Stream runs keep
 * their own rows in ferry_runs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ferry_pipeline_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pipeline', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('steps', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('message', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('ferry_pipeline_runs_pipeline_started').on('ferry_pipeline_runs').columns(['pipeline', 'started_at desc']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ferry_pipeline_runs').ifExists().execute();
}
