import { sql, type Kysely } from 'kysely';

// Frozen: never import application code here, never edit after release.

/**
 * Leaves a tenth of each new page of ferry_binding_keys free. An incremental
 * run rewrites the version of every binding it touches; with room on the
 * page Postgres keeps that new row version beside the old one and adds no
 * index entry (a HOT update). On a 1M-binding store the binding upsert of a
 * 10,000-row incremental went from 183 to 143 ms in the benchmark (103 to
 * 55 ms alone in psql, at fillfactor 85); the bindings take about a tenth
 * more room. Pages
 * already written keep their fill until they are rewritten; the change
 * rewrites nothing.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as the app types say
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table ferry_binding_keys set (fillfactor = 90)`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table ferry_binding_keys reset (fillfactor)`.execute(db);
}
