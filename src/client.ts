import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { cancelCommand } from './cli/commands/cancel.js';
import { migrateCommand } from './cli/commands/migrate.js';
import { resetCommand } from './cli/commands/reset.js';
import { runCommand } from './cli/commands/run.js';
import { statusCommand } from './cli/commands/status.js';
import { CliContext } from './cli/context.js';
import { CliExit, ExitCode } from './cli/exit-codes.js';
import { ConfigurationError } from './core/errors.js';

export function buildProgram(ctx: CliContext): Command {
  return new Command('ferry')
    .description('durable data sync on Temporal')
    .exitOverride()
    .addCommand(runCommand(ctx))
    .addCommand(statusCommand(ctx))
    .addCommand(cancelCommand(ctx))
    .addCommand(resetCommand(ctx))
    .addCommand(migrateCommand(ctx));
}

/** batchSize -> --batch-size, as the user typed it. */
function optionName(path: readonly PropertyKey[]): string {
  return `--${path.map(String).join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The one exit point: maps what a command threw to a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  const ctx = new CliContext();
  try {
    await buildProgram(ctx).parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      return err.code;
    }
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.config;
    if (err instanceof ConfigurationError || err instanceof ZodError) {
      process.stderr.write(`ferry: ${err instanceof ZodError ? err.issues.map((i) => `${optionName(i.path)}: ${i.message}`).join('; ') : err.message}\n`);
      return ExitCode.config;
    }
    process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.error;
  } finally {
    await ctx.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv);
}
