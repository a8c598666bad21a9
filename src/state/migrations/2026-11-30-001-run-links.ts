import type { Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

/** The Temporal run id of a run's first execution, so a run row links to its page in the Web UI. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ferry_runs').addColumn('workflow_run_id', 'text').execute();
}
