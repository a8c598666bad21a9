import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError, UnknownStreamError } from '../core/errors.js';
import type { ExchangeConfig } from '../exchange/runtime.js';
import { indexPipelines, UnknownPipelineError, type PipelineDefinition, type ResolvedPipeline } from './define-pipeline.js';
import { isStreamDefinition, type ResolvedStream, type StreamDefinition } from './define-stream.js';
import { collectPairs } from './pairs.js';
import { scheduleSchema, type ResolvedSchedule } from './schedule.js';
import { ensureTypeScriptConfigs } from './typescript-loader.js';

export interface FerryConfig {
  /** the streams, or a folder (relative to the config file) whose modules export them */
  streams: readonly StreamDefinition[] | string;
  /** pipelines (definePipeline) over those streams */
  pipelines?: readonly PipelineDefinition[];
  /** exchange plans: the plan and this installation's nodes (src/exchange/runtime.ts) */
  exchange?: ExchangeConfig;
}

export function defineConfig(config: FerryConfig): FerryConfig {
  return config;
}

/** A peripheral node's scheduled exchange. */
export interface ExchangeSchedule {
  node: string;
  schedule: ResolvedSchedule;
}

/** The schedules of config.exchange's peripheral nodes, checked like a stream's. */
function exchangeSchedules(file: string, config: FerryConfig): ExchangeSchedule[] {
  const found: ExchangeSchedule[] = [];
  for (const p of config.exchange?.peripherals ?? []) {
    if (p.schedule === undefined) continue;
    const parsed = scheduleSchema.safeParse(p.schedule);
    if (!parsed.success) {
      throw new ConfigurationError(`config file ${file}: exchange node "${p.code}": field "schedule": ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    found.push({ node: p.code, schedule: parsed.data });
  }
  return found;
}

/** The loaded streams, by name. */
export class StreamRegistry {
  private readonly streams = new Map<string, ResolvedStream>();
  private readonly pipelineMap: Map<string, ResolvedPipeline>;

  /** peripheral nodes whose exchanges are scheduled (config.exchange.peripherals[].schedule) */
  readonly exchangeSchedules: readonly ExchangeSchedule[];

  constructor(definitions: readonly StreamDefinition[], pipelines: readonly PipelineDefinition[] = [], exchangeSchedules: readonly ExchangeSchedule[] = []) {
    this.exchangeSchedules = exchangeSchedules;
    for (const { resolved } of definitions) {
      if (this.streams.has(resolved.name)) {
        throw new ConfigurationError(`stream "${resolved.name}" is defined twice`, 'stream names must be unique');
      }
      this.streams.set(resolved.name, resolved);
    }
    this.pipelineMap = indexPipelines(pipelines, this.names());
    collectPairs(this.all()); // a pair named like a stream, or with two streams one way, is refused at load
  }

  pipeline(name: string): ResolvedPipeline {
    const pipeline = this.pipelineMap.get(name);
    if (!pipeline) throw new UnknownPipelineError(name, [...this.pipelineMap.keys()]);
    return pipeline;
  }

  pipelines(): ResolvedPipeline[] {
    return [...this.pipelineMap.values()];
  }

  get(name: string): ResolvedStream {
    const stream = this.streams.get(name);
    if (!stream) throw new UnknownStreamError(name, this.names());
    return stream;
  }

  names(): string[] {
    return [...this.streams.keys()];
  }

  all(): ResolvedStream[] {
    return [...this.streams.values()];
  }

  /** Closes every source and target connection. */
  async close(): Promise<void> {
    const closers = new Set<() => Promise<void>>();
    for (const s of this.streams.values()) {
      closers.add(() => s.source.close());
      closers.add(() => s.target.close());
    }
    await Promise.allSettled([...closers].map((close) => close()));
  }
}

export function configPath(): string {
  return path.resolve(process.env.FERRY_CONFIG ?? 'ferry.config.ts');
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  ensureTypeScriptConfigs(file);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(file)) {
      throw new ConfigurationError(`config file ${file} not found`, 'set FERRY_CONFIG or create ferry.config.ts');
    }
    throw err;
  }
}

async function streamsFromFolder(folder: string): Promise<StreamDefinition[]> {
  const files = (await readdir(folder)).filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const found: StreamDefinition[] = [];
  for (const file of files) {
    const module = await importModule(path.join(folder, file));
    for (const value of Object.values(module)) {
      if (isStreamDefinition(value)) found.push(value);
      else if (Array.isArray(value)) found.push(...value.filter(isStreamDefinition));
    }
  }
  return found;
}

/** Loads a ferry.config.ts / .js / .mjs (default export: defineConfig({...})); TypeScript needs no build step. */
export async function loadConfig(file = configPath()): Promise<StreamRegistry> {
  const module = await importModule(file);
  const config = module.default as FerryConfig | undefined;
  if (!config || (typeof config.streams !== 'string' && !Array.isArray(config.streams))) {
    throw new ConfigurationError(`config file ${file} must default-export defineConfig({ streams: [...] })`);
  }
  const definitions =
    typeof config.streams === 'string'
      ? await streamsFromFolder(path.resolve(path.dirname(file), config.streams))
      : config.streams;
  for (const [i, d] of definitions.entries()) {
    if (!isStreamDefinition(d)) throw new ConfigurationError(`config file ${file}: streams[${i}] is not made by defineStream()`);
  }
  return new StreamRegistry(definitions, config.pipelines ?? [], exchangeSchedules(file, config));
}
