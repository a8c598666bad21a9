import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { failedRunReason, failedRunStatus, startOrRefuse } from '../start-workflow.js';
import { Command } from 'commander';
import { z } from 'zod';
import { formatCounts } from '../../core/types.js';
import { deadLetterCounts, deadLettersOfRun, replayExtent, type DeadLetterSelection, type DeadLetterSummary } from '../../state/dead-letter-queue.js';
import type { RunSummary } from '../../workflows/contracts.js';
import { streamWorkflowId } from '../../workflows/ids.js';
import type { replayDeadLetters } from '../../workflows/replay-dead-letters.js';
import type { ReplayDeadLettersInput } from '../../workflows/replay-contracts.js';
import { renderTable } from '../table.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { displayKey, errorWidth, shortError, summaryJson } from '../dlq/format.js';
import { describeRunning, runningOf } from '../dlq/running.js';
import { resolveSelections } from '../dlq/select.js';

const optionsSchema = z.object({ json: z.boolean().default(false), wait: z.boolean().default(true) });

interface ReplayReport {
  stream: string;
  /** dead letters selected when the command ran */
  selected: number;
  /** incomplete: the replay ran to its end and left some of the selected dead letters in the queue */
  outcome: 'started' | 'succeeded' | 'incomplete' | 'failed' | 'cancelled' | 'refused' | 'nothing to replay';
  workflowId?: string;
  workflowRunId?: string;
  summary?: RunSummary;
  /** the selected dead letters that failed again in this replay (still in the queue) */
  stillFailing?: DeadLetterSummary[];
  message?: string;
}

const severity: Record<ReplayReport['outcome'], ExitCodeValue> = {
  started: ExitCode.ok,
  succeeded: ExitCode.ok,
  incomplete: ExitCode.deadLettersRemain,
  'nothing to replay': ExitCode.ok,
  cancelled: ExitCode.runCancelled,
  failed: ExitCode.runFailed,
  refused: ExitCode.alreadyRunning,
};
// When several streams end differently, the most telling code wins.
const precedence: ExitCodeValue[] = [ExitCode.alreadyRunning, ExitCode.runFailed, ExitCode.runCancelled, ExitCode.deadLettersRemain, ExitCode.ok];

export function dlqReplayCommand(ctx: CliContext): Command {
  return new Command('replay')
    .description(
      'run dead letters through validate -> map -> upsert again with the current stream definition, as a run of the stream (no argument: every stream of the config)',
    )
    .argument('[targets...]', 'stream names (all their dead letters) and/or dead-letter ids')
    .option('--no-wait', 'start the replays and return (follow them with ferry status)')
    .option('--json', 'machine-readable output: { replays: [...] }')
    .action(async (targets: string[], raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const db = ctx.db();
      let selections: DeadLetterSelection[];
      if (targets.length > 0) selections = await resolveSelections(ctx, targets);
      else {
        const counts = await deadLetterCounts(db, (await ctx.streams()).names());
        selections = [...counts.keys()].sort().map((stream) => ({ stream }));
      }
      const client = await ctx.client();

      const reports: ReplayReport[] = [];
      const handles = new Map<ReplayReport, WorkflowHandle<typeof replayDeadLetters>>();
      for (const selection of selections) {
        const { count } = await replayExtent(db, selection);
        const report: ReplayReport = { stream: selection.stream, selected: count, outcome: 'nothing to replay' };
        reports.push(report);
        if (count === 0) continue;
        const input: ReplayDeadLettersInput = { stream: selection.stream, ...(selection.ids ? { ids: [...selection.ids] } : {}) };
        const started = await startOrRefuse<typeof replayDeadLetters>(client, 'replayDeadLetters', {
          workflowId: streamWorkflowId(selection.stream),
          taskQueue: ctx.settings.taskQueue,
          args: [input],
        });
        if ('handle' in started) {
          const { handle } = started;
          Object.assign(report, { outcome: 'started', workflowId: handle.workflowId, workflowRunId: handle.firstExecutionRunId });
          handles.set(report, handle);
        } else {
          const running = await runningOf(client, selection.stream).catch(() => undefined);
          report.outcome = 'refused';
          report.message =
            `cannot replay dead letters of ${selection.stream}: ${describeRunning(selection.stream, running)}; ` +
            `wait for it (ferry status ${selection.stream}) or cancel it (ferry cancel ${selection.stream}), then replay`;
        }
      }

      if (options.wait) {
        await Promise.all(
          [...handles].map(async ([report, handle]) => {
            try {
              report.summary = await handle.result();
              report.outcome = outcomeOf(report.summary);
              report.stillFailing = await deadLettersOfRun(db, report.summary.runId);
            } catch (err) {
              if (!(err instanceof WorkflowFailedError)) throw err;
              report.outcome = failedRunStatus(err);
              report.message = `replay of ${report.stream} ${report.outcome}: ${failedRunReason(err)}`;
            }
          }),
        );
      }

      if (options.json) printJson({ replays: reports.map((r) => ({ ...r, stillFailing: r.stillFailing?.map(summaryJson) })) });
      else printReports(reports, targets.length === 0);
      for (const r of reports) if (r.outcome === 'refused' && !options.json) process.stderr.write(`ferry: ${r.message}\n`);
      const code = precedence.find((c) => reports.some((r) => severity[r.outcome] === c)) ?? ExitCode.ok;
      if (code !== ExitCode.ok) throw new CliExit(code);
    });
}

function outcomeOf(summary: RunSummary): ReplayReport['outcome'] {
  if (summary.status === 'cancelled' || summary.status === 'failed') return summary.status;
  return (summary.deadLetters?.remaining ?? 0) > 0 ? 'incomplete' : 'succeeded';
}

/** "43 of 48 dead letters replayed, 5 left in the queue" (a replay's summary from before the tally: what it read) */
function tallyText(summary: RunSummary, selected: string): string {
  const t = summary.deadLetters;
  if (!t) return `${summary.records} of ${selected}`;
  return `${t.replayed} of ${t.selected} dead letter${t.selected === 1 ? '' : 's'} replayed, ${t.remaining === 0 ? 'none' : t.remaining} left in the queue`;
}

function printReports(reports: readonly ReplayReport[], everyStream: boolean): void {
  if (reports.length === 0) {
    process.stdout.write(everyStream ? 'no dead letters to replay\n' : 'nothing to replay\n');
    return;
  }
  for (const r of reports) {
    const n = `${r.selected} dead letter${r.selected === 1 ? '' : 's'}`;
    switch (r.outcome) {
      case 'nothing to replay':
        process.stdout.write(`${r.stream}: nothing to replay (no such dead letters)\n`);
        break;
      case 'refused':
        break; // on stderr
      case 'started':
        process.stdout.write(`${r.stream}: replay of ${n} started (workflow run ${r.workflowRunId}); follow it with: ferry status ${r.stream}\n`);
        break;
      default: {
        if (!r.summary) {
          process.stdout.write(`${r.message ?? `${r.stream}: ${r.outcome}`}\n`);
          break;
        }
        process.stdout.write(`${r.stream}: replay ${r.outcome} — ${formatCounts(r.summary.counts)}; ${tallyText(r.summary, n)} (run ${r.summary.runId})\n`);
        const still = r.stillFailing ?? [];
        const notReached = (r.summary.deadLetters?.remaining ?? 0) - still.length;
        if (notReached > 0) process.stdout.write(`  ${notReached} not reached by this replay: replay again (ferry dlq replay ${r.stream})\n`);
        if (still.length === 0) break;
        process.stdout.write(`  still in the queue (failed again):\n`);
        const cells = still.map((l) => [l.id, displayKey(l.recordKey), l.stage, l.attempts, shortError(l)]);
        const widths = ['id', 'key', 'stage', 'attempts'].map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
        const table = renderTable(
          [{ header: 'id', align: 'right' }, { header: 'key', maxWidth: 40 }, { header: 'stage' }, { header: 'attempts', align: 'right' }, { header: 'error', maxWidth: errorWidth([4, ...widths]) }],
          cells,
        );
        process.stdout.write(table.replace(/^(?=.)/gm, '    '));
      }
    }
  }
}
