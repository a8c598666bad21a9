import { Command } from 'commander';
import { z } from 'zod';
import { ensureSearchAttributes } from '../../setup/search-attributes.js';
import { migrateToLatest } from '../../state/migrate.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

const optionsSchema = z.object({ json: z.boolean().default(false) });

/** One command for a new environment: the state store's tables and Temporal's search attributes, both idempotent. */
export function setupCommand(ctx: CliContext): Command {
  return new Command('setup')
    .description("prepare a new environment: state store tables, and ferry's search attributes in the Temporal namespace (safe to repeat)")
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const { applied } = await migrateToLatest(ctx.db());
      const search = await ensureSearchAttributes(await ctx.client(), ctx.settings.namespace, { register: true });
      if (options.json) printJson({ migrations: applied, searchAttributes: search });
      else {
        process.stdout.write(applied.length ? `state store: applied ${applied.join(', ')}\n` : 'state store: up to date\n');
        if (search.added.length) process.stdout.write(`search attributes: added ${search.added.join(', ')} in namespace "${ctx.settings.namespace}"\n`);
        if (search.missing.length === 0 && search.added.length === 0) process.stdout.write(`search attributes: all ${search.present.length} registered in namespace "${ctx.settings.namespace}"\n`);
      }
      if (search.missing.length) {
        throw new CliExit(
          ExitCode.error,
          `ferry: search attributes ${search.missing.join(', ')} could not be registered in namespace "${ctx.settings.namespace}": ${search.error ?? 'unknown reason'} (on Temporal Cloud add them with tcld or the Cloud UI)`,
        );
      }
    });
}
