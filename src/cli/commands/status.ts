import { percent, type PendingDeleteApproval } from '../../workflows/delete-approval-contracts.js';
import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { formatCounts } from '../../core/types.js';
import type { TemporalSettings } from '../../temporal.js';
import { printJson, type CliContext } from '../context.js';
import { runLine } from '../run-lines.js';
import { streamStatus, type StreamStatus } from '../stream-status.js';
import { printTable, type TableCell } from '../table.js';
import { formatDuration, formatMoment, formatRelative } from '../time-format.js';

const optionsSchema = z.object({ json: z.boolean().default(false), runs: z.coerce.number().int().min(1).max(100).default(5) });

/** Temporal adds live progress and schedules; without it the state store still answers. */
async function optionalClient(ctx: CliContext): Promise<Client | undefined> {
  try {
    return await ctx.client();
  } catch (err) {
    process.stderr.write(`ferry: Temporal is not reachable (${err instanceof Error ? err.message : String(err)}): live progress and next scheduled runs are not shown\n`);
    return undefined;
  }
}

function lagText(s: StreamStatus): string {
  return s.lag ? formatDuration(s.lag.seconds) : '-';
}

function nextText(s: StreamStatus, temporal: boolean): string {
  if (!temporal) return '?';
  if (s.schedule?.paused) return 'paused';
  return s.nextRunAt ? formatRelative(s.nextRunAt) : '-';
}

/** The counts of the last run: live ones while it runs. */
function countsOf(s: StreamStatus): readonly TableCell[] {
  const c = s.progress?.counts ?? s.lastRun;
  return c ? [c.created, c.updated, c.skipped, c.deleted, c.failed] : [null, null, null, null, null];
}

function awaitingLines(a: PendingDeleteApproval): string[] {
  return [
    `  awaiting approval: mirror-delete would delete ${a.unseen} of ${a.total} known records (${percent(a.share)}; guard ${percent(a.maxDeleteFraction)})`,
    `    sample keys: ${a.sample.join(', ')}`,
    `    decide before ${a.until}: ferry approve ${a.stream} | ferry reject ${a.stream} (no answer: the delete is skipped)`,
  ];
}

function statusText(s: StreamStatus): string {
  if (!s.lastRun) return 'never run';
  if (s.awaitingApproval) return `awaiting approval (${percent(s.awaitingApproval.share)} to delete)`;
  if (s.lastRun.status === 'running' && s.progress) return `running (batch ${s.progress.batches})`;
  return s.lastRun.status;
}

function printOverview(report: readonly StreamStatus[], temporal: boolean): void {
  printTable(
    [
      { header: 'stream' },
      { header: 'last run' },
      { header: 'status' },
      { header: 'created', align: 'right' },
      { header: 'updated', align: 'right' },
      { header: 'skipped', align: 'right' },
      { header: 'deleted', align: 'right' },
      { header: 'failed', align: 'right' },
      { header: 'lag', align: 'right' },
      { header: 'dead letters', align: 'right' },
      { header: 'next run' },
    ],
    report.map((s) => [s.stream, s.lastRun ? formatRelative(s.lastRun.started_at) : null, statusText(s), ...countsOf(s), lagText(s), s.deadLetters, nextText(s, temporal)]),
  );
}

function printDetails(s: StreamStatus, temporal: boolean, settings: TemporalSettings): void {
  const out: string[] = [s.stream];
  if (s.pair) out.push(`  pair: ${s.pair.name} (${s.pair.direction})`);
  out.push(`  checkpoint: ${s.checkpoint ? `${JSON.stringify(s.checkpoint.cursor)} (written ${formatMoment(s.checkpoint.updatedAt)})` : 'none'}`);
  if (s.lag) out.push(`  lag: ${formatDuration(s.lag.seconds)} (${s.lag.basis === 'cursor' ? 'since the checkpoint cursor time' : 'since the checkpoint was written'} ${formatMoment(s.lag.since)})`);
  out.push(`  dead letters: ${s.deadLetters}`);
  out.push(`  next run: ${!temporal ? '? (Temporal not reachable)' : s.schedule ? (s.schedule.paused ? `schedule ${s.schedule.id} is paused` : s.nextRunAt ? `${formatMoment(s.nextRunAt)} (${formatRelative(s.nextRunAt)}, schedule ${s.schedule.id})` : `none (schedule ${s.schedule.id})`) : '- (no schedule)'}`);
  if (s.progress) out.push(`  running now: ${s.progress.phase}, batch ${s.progress.batches}, ${s.progress.records} records — ${formatCounts(s.progress.counts)}`);
  if (s.awaitingApproval) out.push(...awaitingLines(s.awaitingApproval));
  process.stdout.write(`${out.join('\n')}\n`);
  if (s.runs.length === 0) process.stdout.write('  runs: none yet\n');
  for (const r of s.runs) process.stdout.write(runLine(r, settings));
}

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('a table of every stream (last run, counts, lag, dead letters, next scheduled run), or the details of one')
    .argument('[stream]', 'stream name: its checkpoint, lag, schedule and recent runs')
    .option('--runs <n>', 'how many recent runs to show (and put in --json) per stream', '5')
    .option('--json', 'machine-readable output')
    .action(async (stream: string | undefined, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const registry = await ctx.streams();
      const streams = stream ? [registry.get(stream)] : registry.all();
      const db = ctx.db();
      const client = await optionalClient(ctx);
      const now = Date.now();
      const report = await Promise.all(streams.map((s) => streamStatus(s, db, client, options.runs, now)));
      if (options.json) return printJson(report);
      if (stream) printDetails(report[0]!, client !== undefined, ctx.settings);
      else if (report.length === 0) process.stdout.write('no streams in the config\n');
      else printOverview(report, client !== undefined);
    });
}
