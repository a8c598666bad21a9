import { WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

export function cancelCommand(ctx: CliContext): Command {
  return new Command('cancel')
    .description('cancel the running run of a stream; it stops after the batch in flight')
    .argument('<stream>', 'stream name')
    .action(async (stream: string) => {
      const client = await ctx.client();
      const handle = client.workflow.getHandle(stream);
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') throw new CliExit(ExitCode.config, `${stream} is not running (last run: ${description.status.name})`);
        await handle.cancel();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new CliExit(ExitCode.config, `${stream} has never run`);
        throw err;
      }
      process.stdout.write(`cancel requested for ${stream}; it stops after the batch in flight\n`);
    });
}
