import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { ResolvedStream } from '../config/define-stream.js';
import { formatCounts } from '../core/types.js';
import type { DryRunInput, DryRunOutput } from '../workflows/dry-run-contracts.js';
import type { dryRun } from '../workflows/dry-run.js';
import { dryRunWorkflowId } from '../workflows/ids.js';
import { printJson } from './context.js';
import { CliExit, ExitCode } from './exit-codes.js';
import { startOrRefuse } from './start-workflow.js';
import { percent } from '../workflows/delete-approval-contracts.js';

/** Starts the dry-run workflow of a stream and waits for its report. */
export async function dryRunOf(client: Client, taskQueue: string, input: DryRunInput): Promise<DryRunOutput> {
  const started = await startOrRefuse<typeof dryRun>(client, 'dryRun', { workflowId: dryRunWorkflowId(input.stream), taskQueue, args: [input] });
  if ('refused' in started) throw new CliExit(ExitCode.alreadyRunning, `a dry run of ${input.stream} is already going (workflow ${dryRunWorkflowId(input.stream)}); wait for it`);
  try {
    return await started.handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliExit(ExitCode.runFailed, err.cause?.message ?? err.message);
    throw err;
  }
}

export function formatDryRun(r: DryRunOutput): string {
  const lines = [`${r.stream}: dry run (${r.mode}${r.from !== null ? ` after ${JSON.stringify(r.from)}` : ''}), ${r.records} records in ${r.batches} batches — nothing was written`];
  lines.push(`  would: ${formatCounts(r.counts)}`);
  for (const outcome of ['created', 'updated', 'skipped', 'deleted', 'failed'] as const) {
    // keys the guard would keep are listed below, not as deleted
    if (outcome === 'deleted' && r.deletes?.guardTrips) continue;
    if (r.samples[outcome].length) lines.push(`  ${outcome}: ${r.samples[outcome].join(', ')}${r.samples[outcome].length < r.counts[outcome] ? ', …' : ''}`);
  }
  const d = r.deletes;
  if (d) {
    const verdict = !d.guardTrips ? `would be deleted` : d.awaitsApproval ? 'above the guard: the run would await approval (ferry approve / reject)' : 'above the guard: the run would skip the delete and warn';
    lines.push(`  mirror-delete: ${d.unseen} of ${d.known} known records (${percent(d.share)}) not in the source — ${verdict}`);
    if (d.guardTrips && r.samples.deleted.length) lines.push(`  not in the source: ${r.samples.deleted.join(', ')}${r.samples.deleted.length < d.unseen ? ', …' : ''}`);
  }
  lines.push('  (target rejections cannot be foreseen without writing)');
  return `${lines.join('\n')}\n`;
}

/** `ferry run <stream> --dry-run [--full] [--batch-size n] [--json]` */
export async function runDryRuns(client: Client, taskQueue: string, streams: readonly ResolvedStream[], options: { full: boolean; batchSize?: number | undefined; json: boolean }): Promise<void> {
  const reports: DryRunOutput[] = [];
  for (const stream of streams) {
    const report = await dryRunOf(client, taskQueue, { stream: stream.name, full: options.full, ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
    reports.push(report);
    if (!options.json) process.stdout.write(formatDryRun(report));
  }
  if (options.json) printJson(reports.length === 1 ? reports[0] : reports);
}
