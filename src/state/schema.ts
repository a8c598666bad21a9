import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { JsonValue } from '../core/types.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<JsonValue, string, string>;

/** One (stream, system) whose bindings ferry_binding_keys holds, named by a small id. */
export interface BindingScopesTable {
  id: Generated<number>;
  stream: string;
  system: string;
}

/** Per scope and external key: B's internal id, the version last written, the last run that saw it. */
export interface BindingKeysTable {
  scope_id: number;
  record_key: string;
  internal_id: string | null;
  version: string | null;
  last_seen_run: string;
}

export interface CheckpointsTable {
  stream: string;
  cursor: Json;
  run_id: string;
  updated_at: Timestamp;
}

export interface RunsTable {
  id: string;
  stream: string;
  workflow_id: string;
  /** Temporal run id of the run's first execution (null in rows written before it was kept) */
  workflow_run_id: string | null;
  mode: string;
  status: string;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  batches: number;
  created: number;
  updated: number;
  skipped: number;
  deleted: number;
  failed: number;
  message: string | null;
  error: string | null;
}

export interface DeadLettersTable {
  id: Generated<string>;
  stream: string;
  system: string;
  record_key: string;
  stage: string;
  error: string;
  issues: Json;
  raw: Json;
  run_id: string;
  batch_id: string;
  attempts: Generated<number>;
  first_failed_at: Timestamp;
  last_failed_at: Timestamp;
}

export interface StagingTable {
  batch_id: string;
  stage: string;
  run_id: string;
  stream: string;
  payload: Buffer;
  created_at: Timestamp;
}

/** One pipeline run; `steps` is a PipelineStepOutcome[] (src/workflows/pipeline-contracts.ts). */
export interface PipelineRunsTable {
  id: string;
  pipeline: string;
  workflow_id: string;
  trigger: string;
  status: string;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  steps: Json;
  message: string | null;
  error: string | null;
}

export interface FerryDatabase {
  ferry_binding_scopes: BindingScopesTable;
  ferry_binding_keys: BindingKeysTable;
  ferry_checkpoints: CheckpointsTable;
  ferry_runs: RunsTable;
  ferry_pipeline_runs: PipelineRunsTable;
  ferry_dead_letters: DeadLettersTable;
  ferry_staging: StagingTable;
}

export type RunRow = Selectable<RunsTable>;
export type PipelineRunRow = Selectable<PipelineRunsTable>;
export type NewRun = Insertable<RunsTable>;
export type DeadLetterRow = Selectable<DeadLettersTable>;
