import { Command } from 'commander';
import { z } from 'zod';
import { listDeadLetters } from '../../state/dead-letter-queue.js';
import { renderTable, type TableCell } from '../table.js';
import { formatMoment } from '../time-format.js';
import { printJson, type CliContext } from '../context.js';
import { displayKey, errorWidth, shortError, summaryJson } from '../dlq/format.js';

const optionsSchema = z.object({
  json: z.boolean().default(false),
  limit: z.coerce.number().int().min(1).max(10_000).default(50),
});

export function dlqListCommand(ctx: CliContext): Command {
  return new Command('list')
    .description('list dead letters, oldest first: of one stream, or of every stream in the state store')
    .argument('[stream]', 'stream name')
    .option('--limit <n>', 'show at most n (default 50)')
    .option('--json', 'machine-readable output: { total, deadLetters: [...] }')
    .action(async (stream: string | undefined, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      if (stream !== undefined) (await ctx.streams()).get(stream);
      const { total, rows } = await listDeadLetters(ctx.db(), { stream, limit: options.limit });
      if (options.json) return printJson({ total, deadLetters: rows.map(summaryJson) });
      if (rows.length === 0) {
        process.stdout.write(stream ? `no dead letters for ${stream}\n` : 'no dead letters\n');
        return;
      }
      const cells: TableCell[][] = rows.map((l) => [l.id, l.stream, displayKey(l.recordKey), l.stage, l.attempts, formatMoment(l.lastFailedAt), shortError(l)]);
      const headers = ['id', 'stream', 'key', 'stage', 'attempts', 'last failure'];
      const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i]).length)));
      process.stdout.write(
        renderTable(
          [
            { header: 'id', align: 'right' },
            { header: 'stream' },
            { header: 'key', maxWidth: 40 },
            { header: 'stage' },
            { header: 'attempts', align: 'right' },
            { header: 'last failure' },
            { header: 'error', maxWidth: errorWidth(widths.map((w, i) => (i === 2 ? Math.min(w, 40) : w))) },
          ],
          cells,
        ),
      );
      const shown = rows.length < total ? `${rows.length} of ${total} dead letters shown (--limit to see more)` : `${total} dead letter${total === 1 ? '' : 's'}`;
      process.stdout.write(`${shown}; ferry dlq show <id> for one in full\n`);
    });
}
