import { Command } from 'commander';
import { z } from 'zod';
import { stringifyJson } from '../../core/json-values.js';
import { getDeadLetters } from '../../state/dead-letter-queue.js';
import { formatMoment } from '../time-format.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { detailJson, displayKey } from '../dlq/format.js';
import { parseId } from '../dlq/select.js';

const optionsSchema = z.object({ json: z.boolean().default(false) });

export function dlqShowCommand(ctx: CliContext): Command {
  return new Command('show')
    .description('one dead letter in full: raw record, error, field issues, run, attempts, first and last failure')
    .argument('<id>', 'dead-letter id (ferry dlq list shows them)')
    .option('--json', 'machine-readable output')
    .action(async (arg: string, raw: unknown) => {
      const options = optionsSchema.parse(raw);
      const id = parseId(arg);
      const [letter] = await getDeadLetters(ctx.db(), [id]);
      if (!letter) throw new CliExit(ExitCode.config, `ferry: no dead letter with id ${id} (ferry dlq list shows the dead letters; a replayed or discarded one is gone)`);
      if (options.json) return printJson(detailJson(letter));
      const indent = (text: string) => text.replace(/\n/g, '\n    ');
      const lines = [
        `dead letter ${letter.id}`,
        `  stream:         ${letter.stream}`,
        `  key:            ${displayKey(letter.recordKey)} (system ${letter.system})`,
        `  stage:          ${letter.stage}`,
        `  error:          ${letter.error}`,
        `  field issues:   ${letter.issues.length === 0 ? 'none' : ''}`,
        ...letter.issues.map((i) => `    ${i.path}: ${i.message}`),
        `  run:            ${letter.runId}`,
        `  attempts:       ${letter.attempts}`,
        `  first failure:  ${formatMoment(letter.firstFailedAt)}`,
        `  last failure:   ${formatMoment(letter.lastFailedAt)}`,
        `  record:`,
        `    ${indent(stringifyJson(letter.raw, 2))}`,
      ];
      process.stdout.write(`${lines.map((l) => l.trimEnd()).join('\n')}\n`);
    });
}
