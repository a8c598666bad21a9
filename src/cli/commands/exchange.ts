import { Command } from 'commander';
import { z } from 'zod';
import { initPeripheral } from '../../exchange/peripheral.js';
import { installExchange } from '../../exchange/schema.js';
import type { ExchangeRuntime } from '../../exchange/runtime.js';
import { startExchangeServer } from '../../exchange/server.js';
import { exchangeStatus, listConflicts } from '../../exchange/status.js';
import { logger } from '../../logger.js';
import { printJson, type CliContext } from '../context.js';
import { printTable } from '../table.js';
import { exchangeRunCommand } from './exchange-run.js';

/** The database a command looks at: a peripheral node's (--node), else the central node's. */
function nodePool(runtime: ExchangeRuntime, node: string | undefined) {
  return node ? runtime.peripheralPool(node) : runtime.centralPool();
}

const statusOptions = z.object({ node: z.string().optional(), json: z.boolean().default(false) });
const conflictOptions = z.object({ node: z.string().optional(), entity: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(50), json: z.boolean().default(false) });
const serveOptions = z.object({ port: z.coerce.number().int().min(0).max(65535).optional(), host: z.string().optional() });

function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('pending changes per node, last packet numbers, last exchange (the central node’s view, or a peripheral node’s with --node)')
    .option('--node <code>', 'a peripheral node’s own database instead of the central one')
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = statusOptions.parse(raw);
      const rows = await exchangeStatus(nodePool(await ctx.exchange(), options.node));
      if (options.json) return printJson(rows);
      printTable(
        [
          { header: 'node' },
          { header: 'role' },
          { header: 'pending', align: 'right' },
          { header: 'in flight', align: 'right' },
          { header: 'received no', align: 'right' },
          { header: 'sent no', align: 'right' },
          { header: 'acked no', align: 'right' },
          { header: 'last in' },
          { header: 'last out' },
        ],
        rows.map((r) => [r.self ? `${r.code} (this)` : r.code, r.role, r.self ? null : r.pending, r.self ? null : r.inFlight, r.self ? null : r.receivedPacketNo, r.self ? null : r.sentPacketNo, r.self ? null : r.ackedPacketNo, r.lastExchangeIn?.slice(0, 19), r.lastExchangeOut?.slice(0, 19)]),
      );
    });
}

function conflictsCommand(ctx: CliContext): Command {
  return new Command('conflicts')
    .description('the conflict log: both versions, the winner and the policy, newest first')
    .option('--node <code>', 'a peripheral node’s log instead of the central one')
    .option('--entity <type-or-uuid>', 'only this entity type or uuid')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--json', 'machine-readable output, with both versions and the result')
    .action(async (raw: unknown) => {
      const options = conflictOptions.parse(raw);
      const rows = await listConflicts(nodePool(await ctx.exchange(), options.node), { limit: options.limit, entity: options.entity });
      if (options.json) return printJson(rows);
      printTable(
        [{ header: 'detected' }, { header: 'from' }, { header: 'packet', align: 'right' }, { header: 'type' }, { header: 'uuid' }, { header: 'kind' }, { header: 'policy' }, { header: 'winner' }],
        rows.map((r) => [r.detectedAt.slice(0, 19), r.peer, r.packetNo, r.entityType, r.entityUuid, r.kind, r.policy, r.winner]),
      );
      if (!rows.length) process.stdout.write('no conflicts\n');
    });
}

function serveCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('serve POST /api/sync/exchange for the peripheral nodes (the central node; Ctrl-C stops)')
    .option('--port <port>', 'default: exchange.central.port, else 8480')
    .option('--host <host>', 'default: exchange.central.host, else 0.0.0.0')
    .action(async (raw: unknown) => {
      const options = serveOptions.parse(raw);
      const runtime = await ctx.exchange();
      const central = runtime.config.central;
      const pool = runtime.centralPool();
      await installExchange(pool, runtime.plan, { code: runtime.centralCode(), name: central?.name, isCentral: true });
      const server = await startExchangeServer({ pool, plan: runtime.plan, port: options.port ?? central?.port ?? 8480, host: options.host ?? central?.host ?? '0.0.0.0', logger });
      process.stdout.write(`central node "${runtime.centralCode()}" serving the exchange on ${server.url}/api/sync/exchange\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}

function initCommand(ctx: CliContext): Command {
  return new Command('init')
    .description('set a peripheral node’s database up (tables, triggers, its identity from the central node); the first exchange does this too')
    .argument('<node>', 'the peripheral node code')
    .action(async (node: string) => {
      const ids = await initPeripheral((await ctx.exchange()).peripheral(node));
      process.stdout.write(`node ${node} (${ids.selfId}) is set up; central node ${ids.centralId}\n`);
    });
}

export function exchangeCommand(ctx: CliContext): Command {
  return new Command('exchange')
    .description('exchange plans: a central node and peripheral nodes that converge')
    .addCommand(exchangeRunCommand(ctx))
    .addCommand(statusCommand(ctx))
    .addCommand(conflictsCommand(ctx))
    .addCommand(serveCommand(ctx))
    .addCommand(initCommand(ctx));
}
