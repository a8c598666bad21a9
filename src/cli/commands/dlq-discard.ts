import { Command } from 'commander';
import { z } from 'zod';
import { discardDeadLetters, type DeadLetterSelection, type DeadLetterSummary } from '../../state/dead-letter-queue.js';
import { renderTable } from '../table.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { displayKey, errorWidth, shortError, summaryJson } from '../dlq/format.js';
import { describeRunning, runningOf } from '../dlq/running.js';
import { resolveSelections } from '../dlq/select.js';

const optionsSchema = z.object({ json: z.boolean().default(false), all: z.boolean().default(false) });

export function dlqDiscardCommand(ctx: CliContext): Command {
  return new Command('discard')
    .description('remove dead letters for good (asks nothing; prints what it removed)')
    .argument('[targets...]', 'stream names (all their dead letters) and/or dead-letter ids')
    .option('--all', 'every dead letter of every stream in the config')
    .option('--json', 'machine-readable output: { discarded: [...] }')
    .action(async (targets: string[], raw: unknown) => {
      const options = optionsSchema.parse(raw);
      if (targets.length === 0 && !options.all) {
        throw new CliExit(ExitCode.config, 'ferry: say what to discard: a stream, dead-letter ids (ferry dlq list shows them), or --all');
      }
      const selections: DeadLetterSelection[] = options.all ? (await ctx.streams()).names().map((stream) => ({ stream })) : await resolveSelections(ctx, targets);

      // A replay in flight may have staged these records already: discarding them under it
      // would let it write them anyway, or bring their dead letters back.
      const client = await ctx.client();
      for (const { stream } of selections) {
        const running = await runningOf(client, stream);
        if (running?.type === 'replayDeadLetters') {
          throw new CliExit(ExitCode.alreadyRunning, `ferry: cannot discard dead letters of ${stream}: ${describeRunning(stream, running)}; wait for it to end`);
        }
      }

      const discarded: DeadLetterSummary[] = [];
      for (const selection of selections) discarded.push(...(await discardDeadLetters(ctx.db(), selection)));
      if (options.json) return printJson({ discarded: discarded.map(summaryJson) });
      if (discarded.length === 0) {
        process.stdout.write('nothing to discard: no such dead letters\n');
        return;
      }
      process.stdout.write(`discarded ${discarded.length} dead letter${discarded.length === 1 ? '' : 's'}:\n`);
      const cells = discarded.map((l) => [l.id, l.stream, displayKey(l.recordKey), l.stage, shortError(l)]);
      const widths = ['id', 'stream', 'key', 'stage'].map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i]).length)));
      process.stdout.write(
        renderTable(
          [{ header: 'id', align: 'right' }, { header: 'stream' }, { header: 'key', maxWidth: 40 }, { header: 'stage' }, { header: 'error', maxWidth: errorWidth(widths) }],
          cells,
        ),
      );
    });
}
