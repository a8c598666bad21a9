import type { Client, WorkflowHandle } from '@temporalio/client';
import { startOrRefuse } from '../start-workflow.js';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { partitionCount, type ResolvedStream } from '../../config/define-stream.js';
import { streamsToRun } from '../../config/pairs.js';
import { StreamAlreadyRunningError } from '../../core/errors.js';
import { formatCounts } from '../../core/types.js';
import type { RunSummary, SyncStreamInput } from '../../workflows/contracts.js';
import { streamWorkflowId } from '../../workflows/ids.js';
import type { syncStream } from '../../workflows/sync-stream.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { runDryRuns } from '../dry-run.js';
import { progressModeFor } from '../progress.js';
import { exitCodeOf, type RunOutcome } from '../run-outcome.js';
import { watchRun, type WatchResult } from '../watch-run.js';

const recordsPerBatch = z.coerce.number().int().min(1).max(100_000);

const optionsSchema = z
  .object({
    full: z.boolean().default(false),
    batchSize: recordsPerBatch.optional(),
    chunkSize: recordsPerBatch.optional(),
    partitions: z.coerce.number().pipe(partitionCount).optional(),
    direction: z.enum(['import', 'export', 'both']).optional(),
    wait: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .refine((o) => o.batchSize === undefined || o.chunkSize === undefined || o.batchSize === o.chunkSize, {
    message: '--chunk-size is another name for --batch-size: give one of them',
    path: ['chunkSize'],
  });

type RunOptions = z.output<typeof optionsSchema>;

/** Kept for callers of the first CLI: the exit code of a returned summary. */
export function exitCodeFor(summary: RunSummary): number {
  return exitCodeOf(summary.status);
}

/** The worse of two run exit codes: failed > cancelled > warning > ok. */
function worse(a: ExitCodeValue, b: ExitCodeValue): ExitCodeValue {
  const rank = (c: ExitCodeValue) => [ExitCode.ok, ExitCode.runWarning, ExitCode.runCancelled, ExitCode.runFailed].indexOf(c as never);
  return rank(b) > rank(a) ? b : a;
}

async function startRun(client: Client, taskQueue: string, stream: string, options: RunOptions): Promise<WorkflowHandle<typeof syncStream> & { firstExecutionRunId: string }> {
  const batchSize = options.batchSize ?? options.chunkSize;
  const input: SyncStreamInput = { stream, full: options.full, ...(batchSize ? { batchSize } : {}), ...(options.partitions ? { partitions: options.partitions } : {}) };
  const started = await startOrRefuse<typeof syncStream>(client, 'syncStream', { workflowId: streamWorkflowId(stream), taskQueue, args: [input] });
  if ('refused' in started) throw new CliExit(ExitCode.alreadyRunning, new StreamAlreadyRunningError(stream, started.refused.runningRunId).message);
  return started.handle;
}

function printOutcome(o: RunOutcome): void {
  const records = o.records !== undefined ? `${o.records} records in ` : '';
  process.stdout.write(`${o.stream}: ${o.status} — ${formatCounts(o.counts)} (${records}${o.batches} batches)\n`);
  if (o.message) process.stdout.write(`${o.message}\n`);
  if (o.status === 'failed') process.stderr.write(`${o.stream}: failed — ${o.error ?? 'see ferry status'}\n`);
}

interface Detached {
  stream: string;
  workflowId: string;
  workflowRunId: string;
  detached: true;
  progress: Extract<WatchResult, { kind: 'detached' }>['progress'] | null;
}

function printDetached(d: Detached, notStarted: readonly ResolvedStream[], pairRun: string | undefined): void {
  const at = d.progress ? ` (at batch ${d.progress.batches}, ${formatCounts(d.progress.counts)})` : '';
  process.stderr.write(
    `${d.stream}: detached — the run goes on in Temporal${at}.\n` +
      `  follow it: ferry status ${d.stream}\n` +
      `  cancel it: ferry cancel ${d.stream}\n`,
  );
  if (notStarted.length) {
    process.stderr.write(`not started: ${notStarted.map((s) => s.name).join(', ')}${pairRun ? ` (later: ${pairRun})` : ''}\n`);
  }
}

export function runCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('start a run of a stream, or of a stream pair in one or both directions (one run per stream at a time)')
    .argument('<stream>', 'stream name, or pair name with --direction')
    .option('--full', 'a complete pass from the start, ignoring the checkpoint (enables mirror-delete)')
    .option('--batch-size <n>', 'records per batch for this run')
    .option('--chunk-size <n>', 'the same as --batch-size')
    .option('--partitions <n>', "a first load (no checkpoint yet, or --full) split into n key ranges loaded at once (up to 4 at a time); overrides the stream's partitions")
    .addOption(new Option('--direction <direction>', 'for a stream pair: import, export, or both (import, then export; implies --wait)').choices(['import', 'export', 'both']))
    .option('--wait', 'wait for the run to end, showing progress; Ctrl-C offers to cancel the run or detach from it')
    .option('--dry-run', 'read the source and report what a run would create, update, skip, fail and delete (with sample keys); writes nothing')
    .option('--json', 'machine-readable output on stdout (progress is not shown)')
    .action(async (name: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const streams = streamsToRun(await ctx.streams(), name, options.direction);
      const client = await ctx.client();
      if (options.dryRun) return runDryRuns(client, ctx.settings.taskQueue, streams, { ...options, batchSize: options.batchSize ?? options.chunkSize });
      const wait = options.wait || streams.length > 1;

      if (!wait) {
        const [stream] = streams as [ResolvedStream];
        const handle = await startRun(client, ctx.settings.taskQueue, stream.name, options);
        if (options.json) printJson({ stream: stream.name, workflowId: handle.workflowId, workflowRunId: handle.firstExecutionRunId, started: true });
        else process.stdout.write(`started ${stream.name} (workflow run ${handle.firstExecutionRunId}); follow it with: ferry status ${stream.name}\n`);
        return;
      }

      const results: (RunOutcome | Detached)[] = [];
      let code: ExitCodeValue = ExitCode.ok;
      const report = () => {
        if (options.json) printJson(streams.length > 1 ? results : results[0]);
      };
      for (const [i, stream] of streams.entries()) {
        const handle = await startRun(client, ctx.settings.taskQueue, stream.name, options);
        const watched = await watchRun(handle, stream.name, { db: ctx.db(), progress: progressModeFor(options.json) });
        if (watched.kind === 'detached') {
          const d: Detached = { stream: stream.name, workflowId: handle.workflowId, workflowRunId: handle.firstExecutionRunId, detached: true, progress: watched.progress ?? null };
          results.push(d);
          report();
          printDetached(d, streams.slice(i + 1), options.direction === 'both' ? `ferry run ${name} --direction export` : undefined);
          throw new CliExit(ExitCode.detached);
        }
        const outcome = watched.outcome;
        results.push(outcome);
        if (!options.json) printOutcome(outcome);
        else if (outcome.status === 'failed') process.stderr.write(`${outcome.stream}: failed — ${outcome.error ?? 'see ferry status'}\n`);
        code = worse(code, exitCodeOf(outcome.status));
        const rest = streams.slice(i + 1);
        if (rest.length && (outcome.status === 'failed' || outcome.status === 'cancelled')) {
          process.stderr.write(`not started: ${rest.map((s) => s.name).join(', ')} (${stream.name} ended ${outcome.status})\n`);
          break;
        }
      }
      report();
      if (code !== ExitCode.ok) throw new CliExit(code);
    });
}
