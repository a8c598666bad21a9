import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { ScheduleConfig } from '../config/schedule.js';
import { ensureTypeScriptConfigs } from '../config/typescript-loader.js';
import { survivesCutConnections } from '../connectors/postgres/pool.js';
import { isExchangeDefinition, type ExchangeDefinition } from './define-exchange.js';
import { ExchangeConfigurationError } from './errors.js';
import type { PeripheralEndpoint, Post } from './peripheral.js';

/**
 * Where this installation's exchange nodes are: the `exchange` entry of
 * ferry.config.ts. Tokens are referred to by the name of the environment
 * variable that holds them: they never reach the config, Temporal history or
 * the logs.
 *
 * @example
 * exchange: {
 *   plan: fieldReports,
 *   central: { databaseUrl: 'postgres://…/central', port: 8480 },
 *   peripherals: [{ code: 'desk1', databaseUrl: 'postgres://…/desk1', centralUrl: 'https://hq.example', tokenEnv: 'FERRY_TOKEN_DESK1' }],
 * }
 */
export interface ExchangeConfig {
  plan: ExchangeDefinition;
  /** the central node's database (ferry nodes …, ferry exchange serve) */
  central?: { databaseUrl: string; code?: string; name?: string; port?: number; host?: string };
  /** the peripheral nodes whose exchanges this worker runs (ferry exchange run <code>) */
  peripherals?: readonly PeripheralNodeConfig[];
  /** an exchange run stops after this many rounds (packets each way), to go on in the next run; default 1000 */
  maxRounds?: number;
}

export interface PeripheralNodeConfig {
  /** the code the central node registered it under (ferry nodes add <code>) */
  code: string;
  databaseUrl: string;
  /** the central node's base URL (…/api/sync/exchange is appended) */
  centralUrl: string;
  /** the environment variable holding this node's token */
  tokenEnv: string;
  /** when `ferry schedule apply` makes Temporal run this node's exchange (as a stream's `schedule`; the schedule is "exchange:<code>") */
  schedule?: ScheduleConfig;
}

export const DEFAULT_CENTRAL_CODE = 'central';

/** The exchange config with its database pools, opened on first use. */
export class ExchangeRuntime {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(
    readonly config: ExchangeConfig,
    private readonly options: { env?: NodeJS.ProcessEnv; post?: Post } = {},
  ) {
    if (!isExchangeDefinition(config.plan)) throw new ExchangeConfigurationError('exchange.plan is not made by defineExchange()');
    const codes = (config.peripherals ?? []).map((p) => p.code);
    const twice = codes.find((c, i) => codes.indexOf(c) !== i);
    if (twice) throw new ExchangeConfigurationError(`exchange node "${twice}" is listed twice in exchange.peripherals`);
  }

  get plan(): ExchangeDefinition {
    return this.config.plan;
  }

  get maxRounds(): number {
    return this.config.maxRounds ?? 1000;
  }

  pool(url: string): pg.Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'ferry-exchange' });
      survivesCutConnections(pool);
      this.pools.set(url, pool);
    }
    return pool;
  }

  centralPool(): pg.Pool {
    if (!this.config.central) throw new ExchangeConfigurationError('no central node configured', 'set exchange.central.databaseUrl in ferry.config.ts');
    return this.pool(this.config.central.databaseUrl);
  }

  centralCode(): string {
    return this.config.central?.code ?? DEFAULT_CENTRAL_CODE;
  }

  peripheralCodes(): string[] {
    return (this.config.peripherals ?? []).map((p) => p.code);
  }

  /** The database of the peripheral node `code` (no token needed: status and conflicts). */
  peripheralPool(code: string): pg.Pool {
    return this.pool(this.peripheralConfig(code).databaseUrl);
  }

  private peripheralConfig(code: string): PeripheralNodeConfig {
    const node = (this.config.peripherals ?? []).find((p) => p.code === code);
    if (!node) {
      throw new ExchangeConfigurationError(`unknown exchange node "${code}"`, `nodes configured here: ${this.peripheralCodes().join(', ') || '(none: add exchange.peripherals to ferry.config.ts)'}`);
    }
    return node;
  }

  /** The peripheral node `code` as this installation reaches it. */
  peripheral(code: string): PeripheralEndpoint {
    const node = this.peripheralConfig(code);
    const token = (this.options.env ?? process.env)[node.tokenEnv];
    if (!token) throw new ExchangeConfigurationError(`the token of exchange node "${code}" is not set`, `set the environment variable ${node.tokenEnv} (ferry nodes add gives the token)`);
    return { code, pool: this.pool(node.databaseUrl), plan: this.plan, centralUrl: node.centralUrl, token, ...(this.options.post ? { post: this.options.post } : {}) };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.end()));
  }
}

/** The `exchange` entry of a config file, if it has one. */
export async function loadExchange(file: string): Promise<ExchangeRuntime | undefined> {
  ensureTypeScriptConfigs(file);
  const module = (await import(pathToFileURL(file).href)) as { default?: { exchange?: ExchangeConfig } };
  const config = module.default?.exchange;
  return config ? new ExchangeRuntime(config) : undefined;
}
