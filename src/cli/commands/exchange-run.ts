import { WorkflowFailedError } from '@temporalio/client';
import { failedRunReason, failedRunStatus, startOrRefuse } from '../start-workflow.js';
import { Command } from 'commander';
import { z } from 'zod';
import type { exchangeNode } from '../../workflows/exchange.js';
import type { ExchangeSummary } from '../../workflows/exchange-contracts.js';
import { exchangeRunName } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { exitCodeOf } from '../run-outcome.js';

const optionsSchema = z.object({
  wait: z.boolean().default(false),
  json: z.boolean().default(false),
  maxRounds: z.coerce.number().int().min(1).max(100_000).optional(),
});

function printSummary(s: ExchangeSummary): void {
  process.stdout.write(`exchange ${s.node}: ${s.status} — ${s.message ?? ''}\n`);
  process.stdout.write(`  applied here: created ${s.counts.created}, updated ${s.counts.updated}, unchanged ${s.counts.skipped}, soft-deleted ${s.counts.deleted}\n`);
}

export function exchangeRunCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('exchange packets between a peripheral node and the central node (one exchange per node at a time)')
    .argument('<node>', 'the peripheral node code (exchange.peripherals in ferry.config.ts)')
    .option('--wait', 'wait for the exchange to end and print what it moved')
    .option('--max-rounds <n>', 'stop after this many rounds (the next exchange goes on)')
    .option('--json', 'machine-readable output')
    .action(async (node: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      (await ctx.exchange()).peripheralPool(node); // an unknown node fails here, before Temporal
      const client = await ctx.client();
      const workflowId = exchangeRunName(node);
      const started = await startOrRefuse<typeof exchangeNode>(client, 'exchangeNode', {
        workflowId,
        taskQueue: ctx.settings.taskQueue,
        args: [{ node, ...(options.maxRounds ? { maxRounds: options.maxRounds } : {}) }],
      });
      if ('refused' in started) throw new CliExit(ExitCode.alreadyRunning, `node "${node}" is already exchanging (workflow ${workflowId}, run ${started.refused.runningRunId ?? 'unknown'}): wait for it, or see ferry exchange status`);
      const { handle } = started;
      if (!options.wait) {
        if (options.json) printJson({ node, workflowId, workflowRunId: handle.firstExecutionRunId, started: true });
        else process.stdout.write(`started the exchange of ${node} (workflow ${workflowId}); see ferry exchange status\n`);
        return;
      }
      let summary: ExchangeSummary;
      try {
        summary = await handle.result();
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const status = failedRunStatus(err);
        const cause = failedRunReason(err);
        if (options.json) printJson({ node, workflowId, status, error: cause });
        throw new CliExit(status === 'cancelled' ? ExitCode.runCancelled : ExitCode.runFailed, `exchange ${node}: ${status} — ${cause}`);
      }
      if (options.json) printJson(summary);
      else printSummary(summary);
      const code = exitCodeOf(summary.status);
      if (code !== ExitCode.ok) throw new CliExit(code);
    });
}
