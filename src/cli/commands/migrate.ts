import { Command } from 'commander';
import { z } from 'zod';
import { migrateToLatest } from '../../state/migrate.js';
import { printJson, type CliContext } from '../context.js';

const optionsSchema = z.object({ json: z.boolean().default(false) });

export function migrateCommand(ctx: CliContext): Command {
  return new Command('migrate')
    .description('create or update the state store tables (the worker also does this on start)')
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const { applied } = await migrateToLatest(ctx.db());
      if (options.json) return printJson({ applied, upToDate: true });
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'state store is up to date\n');
    });
}
