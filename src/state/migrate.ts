import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { StateDb } from './db.js';
import * as core from './migrations/2026-11-22-001-core.js';
import * as pipelines from './migrations/2026-11-27-001-pipelines.js';
import * as runLinks from './migrations/2026-11-30-001-run-links.js';
import * as narrowBindings from './migrations/2026-12-01-001-narrow-bindings.js';
import * as links from './migrations/2026-12-01-002-links.js';
import * as bindingFillfactor from './migrations/2026-12-02-001-binding-fillfactor.js';

/** Listed here, not read from disk, so migrations work the same under tsx, compiled, and bundled. */
const migrations: Record<string, Migration> = {
  '2026-11-22-001-core': core,
  '2026-11-27-001-pipelines': pipelines,
  '2026-11-30-001-run-links': runLinks,
  '2026-12-01-001-narrow-bindings': narrowBindings,
  '2026-12-01-002-links': links,
  '2026-12-02-001-binding-fillfactor': bindingFillfactor,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface MigrateResult {
  applied: string[];
}

/** Brings the state store up to date; safe to run from several workers at once. */
export async function migrateToLatest(db: StateDb): Promise<MigrateResult> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'ferry_migrations',
    migrationLockTableName: 'ferry_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** Brings the state store up to the named migration only (tests of a later migration on an older store). */
export async function migrateTo(db: StateDb, name: string): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'ferry_migrations', migrationLockTableName: 'ferry_migrations_lock' });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
