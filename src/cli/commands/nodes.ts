import { Command } from 'commander';
import { z } from 'zod';
import { addNode, removeNode } from '../../exchange/nodes.js';
import { installExchange } from '../../exchange/schema.js';
import { exchangeStatus } from '../../exchange/status.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { printTable } from '../table.js';

const jsonOnly = z.object({ json: z.boolean().default(false) });
const addOptions = z.object({ name: z.string().min(1).optional(), json: z.boolean().default(false) });
const code = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a node code holds letters, digits and . _ - only');

/** The central node's database, its exchange tables installed. */
async function centralPool(ctx: CliContext) {
  const runtime = await ctx.exchange();
  const pool = runtime.centralPool();
  await installExchange(pool, runtime.plan, { code: runtime.centralCode(), name: runtime.config.central?.name, isCentral: true });
  return { runtime, pool };
}

export function nodesCommand(ctx: CliContext): Command {
  const list = new Command('list')
    .description('the exchange nodes the central node knows')
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = jsonOnly.parse(raw);
      const rows = await exchangeStatus((await centralPool(ctx)).pool);
      if (options.json) return printJson(rows);
      printTable(
        [{ header: 'node' }, { header: 'id' }, { header: 'role' }, { header: 'pending', align: 'right' }, { header: 'last in' }, { header: 'last out' }],
        rows.map((r) => [r.self ? `${r.code} (this)` : r.code, r.id, r.role, r.self ? null : r.pending, r.lastExchangeIn?.slice(0, 19), r.lastExchangeOut?.slice(0, 19)]),
      );
    });
  const add = new Command('add')
    .description('register a peripheral node on the central node and queue its initial load; prints its token once')
    .argument('<code>', 'the node code (e.g. DESKTOP-USER-1)')
    .option('--name <name>', 'a readable name')
    .option('--json', 'machine-readable output')
    .action(async (rawCode: string, raw: unknown) => {
      const options = addOptions.parse(raw);
      const { runtime, pool } = await centralPool(ctx);
      const added = await addNode(pool, runtime.plan, { code: code.parse(rawCode), ...(options.name ? { name: options.name } : {}) });
      if (options.json) return printJson(added);
      process.stdout.write(
        `added node ${added.code} (${added.id}); ${added.initialLoad} entities queued for its initial load\n` +
          `token (shown once; give it to the node in the variable its tokenEnv names): ${added.token}\n`,
      );
    });
  const remove = new Command('remove')
    .description('remove a peripheral node: its token stops working and its queue is dropped')
    .argument('<code>', 'the node code')
    .option('--json', 'machine-readable output')
    .action(async (nodeCode: string, raw: unknown) => {
      const options = jsonOnly.parse(raw);
      const removed = await removeNode((await centralPool(ctx)).pool, nodeCode);
      if (options.json) return printJson({ code: nodeCode, removed });
      if (!removed) throw new CliExit(ExitCode.config, `no node "${nodeCode}" (see ferry nodes list)`);
      process.stdout.write(`removed node ${nodeCode}\n`);
    });
  return new Command('nodes').description('the exchange nodes registered on the central node').addCommand(list).addCommand(add).addCommand(remove);
}
