import { Command } from 'commander';
import { z } from 'zod';
import { durationToMs } from '../../core/duration.js';
import { noRuns, runWindowStats, type RunWindowStats } from '../../metrics/run-stats.js';
import { readStreamStates, type LagBasis, type StreamRef } from '../../metrics/stream-state.js';
import { printJson, type CliContext } from '../context.js';
import { printTable } from '../table.js';
import { formatDuration, formatMoment } from '../time-format.js';

/** '24h', '30m', '7d', '2w', '90s' (also '1.5h') -> seconds. */
const windowSchema = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*[smhdw]$/i, "must look like '24h', '30m', '7d' or '2w'")
  .transform((v) => (durationToMs(v) ?? 0) / 1000)
  .refine((s) => s > 0, 'must be longer than 0');

const optionsSchema = z.object({ since: windowSchema, json: z.boolean().default(false) });

export interface StreamStats extends RunWindowStats {
  stream: string;
  /** open dead letters now */
  deadLetters: number;
  lagSeconds: number | null;
  lagBasis: LagBasis | null;
  lastSuccessAt: string | null;
}

export interface StatsReport {
  window: string;
  since: string;
  until: string;
  total: RunWindowStats & { pending: { deadLetters: number; maxLagSeconds: number | null; maxLagStream: string | null } };
  streams: StreamStats[];
}

const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const count = (n: number) => n.toLocaleString('en-US');
const seconds = (s: number | null) => (s === null ? '-' : s < 60 ? `${s.toFixed(1)}s` : formatDuration(s));

function printReport(r: StatsReport): void {
  const t = r.total;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`ferry stats: runs finished in the last ${r.window} (since ${formatMoment(new Date(r.since))})`);
  out('');
  const rest = (['warning', 'failed', 'cancelled'] as const).filter((s) => t.runs[s] > 0).map((s) => `${t.runs[s]} ${s}`);
  out(`  success rate       ${percent(t.successRate)}  (${t.runs.succeeded} of ${t.runs.finished} runs succeeded${rest.length ? `; ${rest.join(', ')}` : ''})`);
  out(`  records exported   ${count(t.records.exported)}  (created ${count(t.records.created)}, updated ${count(t.records.updated)}, deleted ${count(t.records.deleted)}; failed ${count(t.records.failed)})`);
  const lag = t.pending.maxLagSeconds === null ? 'no checkpoint yet' : `max lag ${formatDuration(t.pending.maxLagSeconds)} (${t.pending.maxLagStream})`;
  out(`  pending            ${count(t.pending.deadLetters)} dead letters; ${lag}`);
  out(`  average sync time  ${seconds(t.averageSyncSeconds)}  (runs that succeeded or ended with a warning)`);
  if (r.streams.length === 0) return;
  out('');
  printTable(
    [
      { header: 'stream' },
      { header: 'runs', align: 'right' },
      { header: 'success', align: 'right' },
      { header: 'exported', align: 'right' },
      { header: 'dead letters', align: 'right' },
      { header: 'lag', align: 'right' },
      { header: 'avg time', align: 'right' },
      { header: 'last success' },
    ],
    r.streams.map((s) => [
      s.stream,
      s.runs.finished,
      percent(s.successRate),
      count(s.records.exported),
      s.deadLetters,
      formatDuration(s.lagSeconds),
      seconds(s.averageSyncSeconds),
      s.lastSuccessAt ? formatMoment(new Date(s.lastSuccessAt)) : 'never',
    ]),
  );
}

export function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('success rate, records exported, pending work and average sync time over a recent window')
    .option('--since <window>', "how far back to look: '24h', '30m', '7d', '2w'", '24h')
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const rawWindow = (raw as { since?: string }).since ?? '24h';
      const options = optionsSchema.parse(raw);
      const db = ctx.db();
      const until = new Date();
      const since = new Date(until.getTime() - options.since * 1000);
      const registry = await ctx.streams();
      const windowed = await runWindowStats(db, since);
      // the config's streams, plus any other stream with runs in the window (e.g. one removed from the config since)
      const sources = new Map(registry.all().map((s) => [s.name, s.source]));
      const names = [...new Set([...sources.keys(), ...windowed.byStream.keys()])].sort();
      const refs: StreamRef[] = names.map((name) => {
        const source = sources.get(name);
        return { name, lag: source && ((checkpoint, now) => source.lag(checkpoint, now)) };
      });
      const states = new Map((await readStreamStates(db, refs)).map((s) => [s.stream, s]));

      const streams: StreamStats[] = names.map((name) => {
        const state = states.get(name);
        return {
          stream: name,
          ...(windowed.byStream.get(name) ?? noRuns()),
          deadLetters: state?.deadLetters ?? 0,
          lagSeconds: state?.lagSeconds ?? null,
          lagBasis: state?.lagBasis ?? null,
          lastSuccessAt: state?.lastSuccessAt?.toISOString() ?? null,
        };
      });
      const lagged = streams.filter((s) => s.lagSeconds !== null).sort((a, b) => b.lagSeconds! - a.lagSeconds!)[0];
      const report: StatsReport = {
        window: rawWindow.trim(),
        since: since.toISOString(),
        until: until.toISOString(),
        total: {
          ...windowed.total,
          pending: {
            deadLetters: streams.reduce((n, s) => n + s.deadLetters, 0),
            maxLagSeconds: lagged?.lagSeconds ?? null,
            maxLagStream: lagged?.stream ?? null,
          },
        },
        streams,
      };
      if (options.json) printJson(report);
      else printReport(report);
    });
}
