import { WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { linkedPairOf } from '../../links/pair-links.js';
import { forgetBindings } from '../../state/bindings.js';
import { deleteCheckpoint } from '../../state/checkpoints.js';
import { streamWorkflowId } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

const optionsSchema = z.object({ bindings: z.boolean().default(false), json: z.boolean().default(false) });

export function resetCommand(ctx: CliContext): Command {
  return new Command('reset')
    .description("forget a stream's checkpoint so the next run starts from the beginning")
    .argument('<stream>', 'stream name')
    .option('--bindings', 'also forget what was written (every record counts as created again)')
    .option('--json', 'machine-readable output')
    .action(async (stream: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const registry = await ctx.streams();
      const linked = linkedPairOf(registry, registry.get(stream));
      if (linked && options.bindings) {
        throw new CliExit(ExitCode.config, `${stream} is a stream of linked pair "${linked.name}": its records are links shared with the pair's other stream, and forgetting them would create every entity again on the other side (run without --bindings; see docs/pairs.md)`);
      }
      const client = await ctx.client();
      const status = await client.workflow
        .getHandle(streamWorkflowId(stream))
        .describe()
        .then((d) => d.status.name)
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return 'NONE';
          throw err;
        });
      if (status === 'RUNNING') throw new CliExit(ExitCode.alreadyRunning, `${stream} is running: cancel it first (ferry cancel ${stream})`);
      const db = ctx.db();
      const hadCheckpoint = await deleteCheckpoint(db, stream);
      const forgotten = options.bindings ? await forgetBindings(db, stream) : 0;
      if (options.json) return printJson({ stream, checkpointRemoved: hadCheckpoint, bindingsForgotten: options.bindings ? forgotten : null });
      process.stdout.write(`${stream}: checkpoint ${hadCheckpoint ? 'removed' : 'was not set'}${options.bindings ? `, ${forgotten} bindings forgotten` : ''}\n`);
    });
}
