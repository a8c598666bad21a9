import { WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { streamWorkflowId } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

const optionsSchema = z.object({ json: z.boolean().default(false) });

export function cancelCommand(ctx: CliContext): Command {
  return new Command('cancel')
    .description('cancel the running run of a stream; it stops after the batch in flight')
    .argument('<stream>', 'stream name')
    .option('--json', 'machine-readable output')
    .action(async (stream: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const client = await ctx.client();
      const handle = client.workflow.getHandle(streamWorkflowId(stream));
      let workflowRunId: string;
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') throw new CliExit(ExitCode.config, `${stream} is not running (last run: ${description.status.name})`);
        workflowRunId = description.runId;
        await handle.cancel();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new CliExit(ExitCode.config, `${stream} has never run`);
        throw err;
      }
      if (options.json) printJson({ stream, workflowId: handle.workflowId, workflowRunId, cancelRequested: true });
      else process.stdout.write(`cancel requested for ${stream}; it stops after the batch in flight\n`);
    });
}
