import { Command } from 'commander';
import { z } from 'zod';
import { recentRuns } from '../../state/runs.js';
import { printJson, type CliContext } from '../context.js';
import { runLine, runUrl } from '../run-lines.js';

const optionsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  status: z.enum(['running', 'succeeded', 'warning', 'failed', 'cancelled']).optional(),
  json: z.boolean().default(false),
});

/** A stream's recent runs from the state store, newest first, each with its Temporal Web UI page. */
export function runsCommand(ctx: CliContext): Command {
  return new Command('runs')
    .description('recent runs of a stream (or of all), newest first, with their counts and Temporal Web UI pages')
    .argument('[stream]', 'stream name; default: every stream')
    .option('--limit <n>', 'how many runs', '20')
    .option('--status <status>', 'only runs that ended so (or are running): running, succeeded, warning, failed, cancelled')
    .option('--json', 'machine-readable output')
    .action(async (stream: string | undefined, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      if (stream) (await ctx.streams()).get(stream); // an unknown name is a usage error, not an empty list
      const rows = await recentRuns(ctx.db(), stream, options.limit, options.status);
      if (options.json) return printJson(rows.map((r) => ({ ...r, url: runUrl(r, ctx.settings) ?? null })));
      if (rows.length === 0) return void process.stdout.write(`no runs${stream ? ` of ${stream}` : ''}${options.status ? ` with status ${options.status}` : ''}\n`);
      for (const r of rows) process.stdout.write(`${stream ? '' : `${r.stream}\n`}${runLine(r, ctx.settings)}`);
    });
}
