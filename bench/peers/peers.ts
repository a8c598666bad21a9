// The peers the bench runs beside ferry and COPY: the tools a user would pick
// instead. scripts/ensure-bench-peers.sh installs them into a virtualenv and
// writes peers.json (installed: version and command, or the reason it could not);
// this module turns that into runnable peers, each a full load into a fresh
// table and an incremental run of the changed rows, timed from the outside.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { SOURCE_COLUMNS } from '../tables.js';
import { runTimed, type TimedChild } from '../timed-child.js';

export type PeerName = 'sling' | 'dlt' | 'dlt-defaults';
export const PEER_NAMES: readonly PeerName[] = ['sling', 'dlt', 'dlt-defaults'];

export interface PeerRun extends TimedChild {
  /** rows the tool says it wrote (NaN when it does not say) */
  written: number;
}

export interface Peer {
  name: PeerName;
  /** for the report, e.g. "Sling 1.4.11 (defaults)" */
  label: string;
  /** the relation it writes, and the 11 source columns under the names it gives them */
  relation: string;
  columns: readonly string[];
  /** drops what an earlier run left (target table, tool state): the next full load starts fresh */
  reset(pool: pg.Pool): Promise<void>;
  full(): Promise<PeerRun>;
  incremental(): Promise<PeerRun>;
}

export interface MissingPeer {
  name: PeerName;
  reason: string;
}

interface Installed {
  installed: true;
  version: string;
  command: string[];
}
type Status = Installed | { installed: false; reason: string };

export interface PeerContext {
  /** the bench database, postgres://… */
  url: string;
  source: string;
  /** scratch directory for the tools' own state (Sling home, dlt pipelines) */
  workDir: string;
}

function readStatus(file: string): Record<string, Status> {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Status>;
}

function sling(status: Installed, ctx: PeerContext): Peer {
  const home = path.join(ctx.workDir, 'sling-home');
  const target = 'sling_dst';
  const env = {
    // Sling reads connections from environment variables named by --src-conn/--tgt-conn
    FERRY_BENCH_PG: ctx.url.includes('?') ? ctx.url : `${ctx.url}?sslmode=disable`,
    SLING_HOME_DIR: home,
    SLING_DISABLE_TELEMETRY: 'true',
  };
  const common = ['run', '--src-conn', 'FERRY_BENCH_PG', '--src-stream', `public.${ctx.source}`, '--tgt-conn', 'FERRY_BENCH_PG', '--tgt-object', `public.${target}`];
  const run = async (mode: string, extra: string[]): Promise<PeerRun> => {
    await mkdir(home, { recursive: true });
    const r = await runTimed(`sling ${mode}`, status.command[0] as string, [...status.command.slice(1), ...common, '--mode', mode, ...extra], env);
    // "inserted 1000000 rows into "public"."sling_dst" in 7 secs"
    const m = /inserted ([\d,]+) rows/.exec(r.stderr + r.stdout);
    return { ...r, written: m ? Number((m[1] as string).replace(/,/g, '')) : Number.NaN };
  };
  return {
    name: 'sling',
    label: `Sling ${status.version} (defaults)`,
    relation: `public.${target}`,
    columns: SOURCE_COLUMNS,
    async reset(pool) {
      await pool.query(`drop table if exists public.${target}, public.${target}_tmp`);
    },
    full: () => run('full-refresh', []),
    incremental: () => run('incremental', ['--primary-key', 'id', '--update-key', 'updated_at']),
  };
}

function dlt(status: Installed, ctx: PeerContext, fastest: boolean): Peer {
  const dataset = fastest ? 'dlt_dst' : 'dlt_defaults_dst';
  const pipelines = path.join(ctx.workDir, `dlt-${dataset}`);
  const env = {
    DLT_DATA_DIR: pipelines,
    RUNTIME__DLTHUB_TELEMETRY: 'false',
    RUNTIME__LOG_LEVEL: 'WARNING',
  };
  const run = async (mode: 'full' | 'incremental'): Promise<PeerRun> => {
    await mkdir(pipelines, { recursive: true });
    const args = [...status.command.slice(1), '--url', ctx.url.replace(/^postgres:/, 'postgresql:'), '--table', ctx.source, '--dataset', dataset, '--mode', mode, '--pipelines-dir', pipelines];
    if (!fastest) args.push('--backend', 'sqlalchemy', '--format', 'default');
    // cwd: dlt looks for .dlt/ config beside the working directory; keep it out of the repo
    const r = await runTimed(`dlt ${mode}`, status.command[0] as string, args, env, pipelines);
    const last = r.stdout.trim().split('\n').pop() ?? '{}';
    const out = JSON.parse(last) as { rows?: number };
    return { ...r, written: out.rows ?? Number.NaN };
  };
  return {
    name: fastest ? 'dlt' : 'dlt-defaults',
    label: fastest ? `dlt ${status.version.split(' ')[0]} (connectorx + parquet, its fastest)` : `dlt ${status.version.split(' ')[0]} (defaults: sqlalchemy backend, insert_values)`,
    relation: `${dataset}.${ctx.source}`,
    columns: SOURCE_COLUMNS,
    async reset(pool) {
      await pool.query(`drop schema if exists ${dataset} cascade`);
      await pool.query(`drop schema if exists ${dataset}_staging cascade`);
      await rm(pipelines, { recursive: true, force: true });
    },
    full: () => run('full'),
    incremental: () => run('incremental'),
  };
}

/** The wanted peers that are installed, and the wanted ones that are not (with why). */
export function loadPeers(statusFile: string, wanted: readonly PeerName[], ctx: PeerContext): { peers: Peer[]; missing: MissingPeer[] } {
  const status = readStatus(statusFile);
  const peers: Peer[] = [];
  const missing: MissingPeer[] = [];
  for (const name of wanted) {
    const s = status[name === 'dlt-defaults' ? 'dlt' : name];
    if (!s) missing.push({ name, reason: `not in ${statusFile}: scripts/ensure-bench-peers.sh did not run (BENCH_PEERS=none?)` });
    else if (!s.installed) missing.push({ name, reason: s.reason });
    else if (name === 'sling') peers.push(sling(s, ctx));
    else peers.push(dlt(s, ctx, name === 'dlt'));
  }
  return { peers, missing };
}
