import { createInterface } from 'node:readline/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { forgetBindings } from '../../state/bindings.js';
import { deleteCheckpoint, getCheckpoint, saveCheckpoint } from '../../state/checkpoints.js';
import { streamWorkflowId } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { formatResetPlan, planReset } from '../reset-plan.js';

const optionsSchema = z
  .object({ bindings: z.boolean().default(false), to: z.string().min(1).optional(), yes: z.boolean().default(false), json: z.boolean().default(false) })
  .refine((o) => !(o.to && o.bindings), { message: '--bindings forgets everything; it does not go with --to', path: ['bindings'] });

/** The run id a checkpoint set by hand carries (ferry_checkpoints.run_id). */
const RESET_RUN_ID = 'ferry-reset';

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function resetCommand(ctx: CliContext): Command {
  return new Command('reset')
    .description("forget a stream's checkpoint so the next run starts from the beginning, or (--to) move it back to re-sync from a past point")
    .argument('<stream>', 'stream name')
    .option('--bindings', 'also forget what was written (every record counts as created again)')
    .option('--to <time|cursor>', 're-sync from a time (2026-01-31T10:00:00Z; timestamp-cursor streams) or a cursor as JSON; shows the plan first')
    .option('--yes', 'apply the --to plan without asking')
    .option('--json', 'machine-readable output')
    .action(async (name: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const stream = (await ctx.streams()).get(name);
      const client = await ctx.client();
      const status = await client.workflow
        .getHandle(streamWorkflowId(name))
        .describe()
        .then((d) => d.status.name)
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return 'NONE';
          throw err;
        });
      if (status === 'RUNNING') throw new CliExit(ExitCode.alreadyRunning, `${name} is running: cancel it first (ferry cancel ${name})`);
      const db = ctx.db();

      if (options.to !== undefined) {
        const plan = await planReset(stream, options.to, await getCheckpoint(db, name));
        if (!options.json) process.stdout.write(formatResetPlan(plan));
        const apply = options.yes || (!options.json && process.stdin.isTTY === true && (await askYes('apply this reset? [y/N] ')));
        if (apply) await saveCheckpoint(db, name, RESET_RUN_ID, plan.next);
        if (options.json) return printJson({ ...plan, applied: apply });
        process.stdout.write(apply ? `${name}: checkpoint set; the next run starts there\n` : `${name}: not applied (add --yes to apply)\n`);
        return;
      }

      const hadCheckpoint = await deleteCheckpoint(db, name);
      const forgotten = options.bindings ? await forgetBindings(db, name) : 0;
      if (options.json) return printJson({ stream: name, checkpointRemoved: hadCheckpoint, bindingsForgotten: options.bindings ? forgotten : null });
      process.stdout.write(`${name}: checkpoint ${hadCheckpoint ? 'removed' : 'was not set'}${options.bindings ? `, ${forgotten} bindings forgotten` : ''}\n`);
    });
}
