import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { approveCommand, rejectCommand } from './cli/commands/approve.js';
import { cancelCommand } from './cli/commands/cancel.js';
import { dlqCommand } from './cli/commands/dlq.js';
import { exchangeCommand } from './cli/commands/exchange.js';
import { migrateCommand } from './cli/commands/migrate.js';
import { nodesCommand } from './cli/commands/nodes.js';
import { pipelineCommand } from './cli/commands/pipeline.js';
import { resetCommand } from './cli/commands/reset.js';
import { runCommand } from './cli/commands/run.js';
import { runsCommand } from './cli/commands/runs.js';
import { scheduleCommand } from './cli/commands/schedule.js';
import { setupCommand } from './cli/commands/setup.js';
import { statsCommand } from './cli/commands/stats.js';
import { statusCommand } from './cli/commands/status.js';
import { CliContext } from './cli/context.js';
import { CliExit, ExitCode } from './cli/exit-codes.js';
import { ConfigurationError } from './core/errors.js';

/** package.json sits one folder above this file, in src/ and in dist/ alike. */
function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version?: string };
  return pkg.version ?? 'unknown';
}

export function buildProgram(ctx: CliContext): Command {
  return new Command('ferry')
    .description('durable data sync on Temporal')
    .version(packageVersion(), '-V, --version', 'the ferry version')
    .exitOverride()
    .addCommand(runCommand(ctx))
    .addCommand(statusCommand(ctx))
    .addCommand(runsCommand(ctx))
    .addCommand(statsCommand(ctx))
    .addCommand(cancelCommand(ctx))
    .addCommand(resetCommand(ctx))
    .addCommand(approveCommand(ctx))
    .addCommand(rejectCommand(ctx))
    .addCommand(dlqCommand(ctx))
    .addCommand(scheduleCommand(ctx))
    .addCommand(pipelineCommand(ctx))
    .addCommand(migrateCommand(ctx))
    .addCommand(setupCommand(ctx))
    .addCommand(exchangeCommand(ctx))
    .addCommand(nodesCommand(ctx));
}

/** Usage errors of subcommands too reach main()'s one exit point (code 2) instead of exiting 1 on their own. */
function overrideExits(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
  return command;
}

/** batchSize -> --batch-size, as the user typed it. */
function optionName(path: readonly PropertyKey[]): string {
  return `--${path.map(String).join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The one exit point: maps what a command threw to a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  const ctx = new CliContext();
  try {
    await overrideExits(buildProgram(ctx)).parseAsync(argv);
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
