import { Command } from 'commander';
import { z } from 'zod';
import { listConflicts } from '../../state/conflicts.js';
import { printJson, type CliContext } from '../context.js';
import { printTable } from '../table.js';

const listOptions = z.object({
  pair: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(50),
  json: z.boolean().default(false),
});

const short = (v: unknown) => {
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** `ferry conflicts list`: the conflict log of linked pairs, newest first. */
export function conflictsCommand(ctx: CliContext): Command {
  const list = new Command('list')
    .description('conflicts linked pairs found (both sides changed since the last sync): both versions, what won, the policy and why; newest first')
    .option('--pair <pair>', 'only this pair')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output (full values)')
    .action(async (raw: unknown) => {
      const options = listOptions.parse(raw);
      const rows = await listConflicts(ctx.db(), { pair: options.pair, limit: options.limit });
      if (options.json) return printJson(rows);
      if (rows.length === 0) return void process.stdout.write(`no conflicts${options.pair ? ` in pair ${options.pair}` : ''}\n`);
      printTable(
        [{ header: 'when' }, { header: 'pair' }, { header: 'found by' }, { header: 'local' }, { header: 'remote' }, { header: 'policy' }, { header: 'winner' }, { header: 'incoming' }, { header: 'current' }, { header: 'result' }],
        rows.map((r) => [r.createdAt.toISOString().slice(0, 19), r.pair, r.stream, r.localKey, r.remoteKey, r.policy, r.winner, short(r.incoming), short(r.current), short(r.result)]),
      );
      for (const r of rows) process.stdout.write(`#${r.id} ${r.pair} ${r.localKey ?? '-'} ⇄ ${r.remoteKey ?? '-'}: ${r.reason}\n`);
    });
  return new Command('conflicts').description('the conflict log of linked stream pairs').addCommand(list);
}
