import { Command } from 'commander';
import { migrateToLatest } from '../../state/migrate.js';
import type { CliContext } from '../context.js';

export function migrateCommand(ctx: CliContext): Command {
  return new Command('migrate').description('create or update the state store tables (the worker also does this on start)').action(async () => {
    const { applied } = await migrateToLatest(ctx.db());
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'state store is up to date\n');
  });
}
