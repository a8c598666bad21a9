import { userInfo } from 'node:os';
import { Command } from 'commander';
import { z } from 'zod';
import { approveDeleteSignal, deleteApprovalQuery, percent, rejectDeleteSignal, type PendingDeleteApproval } from '../../workflows/delete-approval-contracts.js';
import { streamWorkflowId } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

const optionsSchema = z.object({ by: z.string().min(1).max(100).optional(), json: z.boolean().default(false) });

function whoAmI(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/**
 * `ferry approve <stream>` / `ferry reject <stream>`: the decision on a
 * mirror-delete the guard stopped, for a stream declared with
 * `deletes: { mode: 'mirror', onGuardTrip: { await: '2h' } }`. Asks the running
 * workflow what it waits for, then signals the decision for exactly that run.
 */
function decisionCommand(ctx: CliContext, verb: 'approve' | 'reject'): Command {
  return new Command(verb)
    .description(
      verb === 'approve'
        ? 'let a run waiting at the mirror-delete guard delete what its complete pass did not see'
        : 'tell a run waiting at the mirror-delete guard to skip the delete (it ends with a warning)',
    )
    .argument('<stream>', 'stream name')
    .option('--by <name>', 'who decides, for the run message (default: the OS user)')
    .option('--json', 'machine-readable output')
    .action(async (stream: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      (await ctx.streams()).get(stream);
      const handle = (await ctx.client()).workflow.getHandle(streamWorkflowId(stream));
      // No run, a run past this step, or a run without the step: all "nothing to decide".
      const pending: PendingDeleteApproval | null = await handle.query(deleteApprovalQuery).catch(() => null);
      if (!pending) throw new CliExit(ExitCode.config, `${stream} is not awaiting approval (see ferry status ${stream})`);
      const by = options.by ?? whoAmI();
      await handle.signal(verb === 'approve' ? approveDeleteSignal : rejectDeleteSignal, { runId: pending.runId, ...(by ? { by } : {}) });
      if (options.json) return printJson({ stream, runId: pending.runId, decision: verb === 'approve' ? 'approved' : 'rejected', unseen: pending.unseen, total: pending.total });
      process.stdout.write(
        verb === 'approve'
          ? `${stream}: approved — run ${pending.runId} deletes ${pending.unseen} of ${pending.total} records (${percent(pending.share)}); follow it with ferry status ${stream}\n`
          : `${stream}: rejected — run ${pending.runId} skips the delete of ${pending.unseen} records and ends with a warning\n`,
      );
    });
}

export const approveCommand = (ctx: CliContext): Command => decisionCommand(ctx, 'approve');
export const rejectCommand = (ctx: CliContext): Command => decisionCommand(ctx, 'reject');
