import { CancelledFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { StreamAlreadyRunningError } from '../../core/errors.js';
import { formatCounts } from '../../core/types.js';
import type { RunSummary, SyncStreamInput } from '../../workflows/contracts.js';
import { progressQuery } from '../../workflows/definitions.js';
import type { syncStream } from '../../workflows/sync-stream.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';

const optionsSchema = z.object({
  full: z.boolean().default(false),
  batchSize: z.coerce.number().int().min(1).max(100_000).optional(),
  wait: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function exitCodeFor(summary: RunSummary): number {
  switch (summary.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'warning':
      return ExitCode.runWarning;
    case 'cancelled':
      return ExitCode.runCancelled;
    default:
      return ExitCode.runFailed;
  }
}

export function runCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('start a run of a stream (one run per stream at a time)')
    .argument('<stream>', 'stream name')
    .option('--full', 'a complete pass from the start, ignoring the checkpoint (enables mirror-delete)')
    .option('--batch-size <n>', 'records per batch for this run')
    .option('--wait', 'wait for the run to end and print its counts')
    .option('--json', 'machine-readable output')
    .action(async (stream: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      (await ctx.streams()).get(stream);
      const client = await ctx.client();
      const input: SyncStreamInput = { stream, full: options.full, ...(options.batchSize ? { batchSize: options.batchSize } : {}) };
      let handle;
      try {
        handle = await client.workflow.start<typeof syncStream>('syncStream', {
          workflowId: stream,
          taskQueue: ctx.settings.taskQueue,
          args: [input],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          const running = await client.workflow.getHandle(stream).describe().catch(() => undefined);
          throw new CliExit(ExitCode.alreadyRunning, new StreamAlreadyRunningError(stream, running?.runId).message);
        }
        throw err;
      }
      if (!options.wait) {
        if (options.json) printJson({ stream, workflowId: stream, workflowRunId: handle.firstExecutionRunId, started: true });
        else process.stdout.write(`started ${stream} (workflow run ${handle.firstExecutionRunId}); follow it with: ferry status ${stream}\n`);
        return;
      }
      const ticker =
        !options.json && process.stderr.isTTY
          ? setInterval(() => {
              handle
                .query(progressQuery)
                .then((p) => process.stderr.write(`\r${stream}: batch ${p.batches}, ${p.records} records — ${formatCounts(p.counts)}   `))
                .catch(() => undefined);
            }, 1000)
          : undefined;
      let summary: RunSummary;
      try {
        summary = await handle.result();
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        if (err.cause instanceof CancelledFailure) throw new CliExit(ExitCode.runCancelled, `${stream}: cancelled`);
        throw new CliExit(ExitCode.runFailed, `${stream}: failed — ${err.cause?.message ?? err.message}`);
      } finally {
        if (ticker) {
          clearInterval(ticker);
          process.stderr.write('\n');
        }
      }
      if (options.json) printJson(summary);
      else {
        process.stdout.write(`${stream}: ${summary.status} — ${formatCounts(summary.counts)} (${summary.records} records in ${summary.batches} batches)\n`);
        if (summary.message) process.stdout.write(`${summary.message}\n`);
      }
      const code = exitCodeFor(summary);
      if (code !== ExitCode.ok) throw new CliExit(code as typeof ExitCode.runWarning);
    });
}
