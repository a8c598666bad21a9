import { Command } from 'commander';
import { z } from 'zod';
import { getCheckpoint } from '../../state/checkpoints.js';
import { countDeadLetters } from '../../state/dead-letters.js';
import { recentRuns } from '../../state/runs.js';
import { printJson, type CliContext } from '../context.js';

const optionsSchema = z.object({ json: z.boolean().default(false), runs: z.coerce.number().int().min(1).max(100).default(5) });

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('last runs, checkpoint and dead-letter count of each stream (or one)')
    .argument('[stream]', 'stream name')
    .option('--runs <n>', 'how many recent runs to show per stream', '5')
    .option('--json', 'machine-readable output')
    .action(async (stream: string | undefined, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const registry = await ctx.streams();
      const names = stream ? [registry.get(stream).name] : registry.names();
      const db = ctx.db();
      const report = await Promise.all(
        names.map(async (name) => ({
          stream: name,
          checkpoint: (await getCheckpoint(db, name)) ?? null,
          deadLetters: await countDeadLetters(db, name),
          runs: await recentRuns(db, name, options.runs),
        })),
      );
      if (options.json) return printJson(report);
      for (const s of report) {
        const cp = s.checkpoint ? `${JSON.stringify(s.checkpoint.cursor)} (at ${s.checkpoint.updatedAt.toISOString()})` : 'none';
        process.stdout.write(`${s.stream}\n  checkpoint: ${cp}\n  dead letters: ${s.deadLetters}\n`);
        if (s.runs.length === 0) process.stdout.write('  runs: none yet\n');
        for (const r of s.runs) {
          const took = r.finished_at ? `${((r.finished_at.getTime() - r.started_at.getTime()) / 1000).toFixed(1)}s` : 'running';
          process.stdout.write(
            `  ${r.started_at.toISOString()} ${r.status.padEnd(9)} ${r.mode.padEnd(11)} ${took.padStart(8)}  created ${r.created}, updated ${r.updated}, skipped ${r.skipped}, deleted ${r.deleted}, failed ${r.failed}${r.message ? `\n      ${r.message}` : ''}${r.error ? `\n      error: ${r.error}` : ''}\n`,
          );
        }
      }
    });
}
