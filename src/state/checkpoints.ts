import type { Cursor } from '../core/types.js';
import type { StateDb } from './db.js';

export interface Checkpoint {
  cursor: Cursor;
  runId: string;
  updatedAt: Date;
}

export async function getCheckpoint(db: StateDb, stream: string): Promise<Checkpoint | undefined> {
  const row = await db.selectFrom('ferry_checkpoints').selectAll().where('stream', '=', stream).executeTakeFirst();
  return row && { cursor: row.cursor, runId: row.run_id, updatedAt: row.updated_at };
}

export async function saveCheckpoint(db: StateDb, stream: string, runId: string, cursor: Cursor): Promise<void> {
  const json = JSON.stringify(cursor);
  await db
    .insertInto('ferry_checkpoints')
    .values({ stream, cursor: json, run_id: runId, updated_at: new Date() })
    .onConflict((oc) => oc.column('stream').doUpdateSet({ cursor: json, run_id: runId, updated_at: new Date() }))
    .execute();
}

export async function deleteCheckpoint(db: StateDb, stream: string): Promise<boolean> {
  const r = await db.deleteFrom('ferry_checkpoints').where('stream', '=', stream).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
