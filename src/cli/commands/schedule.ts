import type { Client, ScheduleDescription, ScheduleHandle } from '@temporalio/client';
import { Command } from 'commander';
import { z } from 'zod';
import { applySchedules, describeOrUndefined, type ApplyResult } from '../../schedules/apply.js';
import { ferryActionMemo, ferryScheduleMemo } from '../../schedules/desired.js';
import { inspectSchedule, inspectSchedules, type ScheduleView } from '../../schedules/inspect.js';
import { scheduleIdOf } from '../../workflows/ids.js';
import { printJson, type CliContext } from '../context.js';
import { CliExit, ExitCode } from '../exit-codes.js';
import { printTable } from '../table.js';
import { formatMoment, formatRelative } from '../time-format.js';

const jsonOnly = z.object({ json: z.boolean().default(false) });

/** The ferry schedule of a stream or pipeline, or a clear exit (code 2) when there is none or it is not ferry's. */
async function ferrySchedule(client: Client, name: string): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const scheduleId = scheduleIdOf(name);
  const description = await describeOrUndefined(client, scheduleId);
  if (!description) {
    throw new CliExit(ExitCode.config, `no schedule "${scheduleId}" in Temporal (declare a schedule on "${name}" in the config, then: ferry schedule apply)`);
  }
  if (!ferryScheduleMemo(description.memo)) {
    throw new CliExit(ExitCode.config, `schedule "${scheduleId}" was not created by ferry: leaving it alone (manage it with the temporal CLI)`);
  }
  return { handle: client.schedule.getHandle(scheduleId), description };
}

function applyLine(r: ApplyResult): string {
  return `${r.action.padEnd(9)} ${r.scheduleId}${r.spec ? `  ${r.spec}` : ''}${r.detail ? `\n          ${r.detail}` : ''}\n`;
}

function applyCommand(ctx: CliContext): Command {
  return new Command('apply')
    .description('create or update the Temporal Schedules the config declares (idempotent); --prune deletes ferry schedules it no longer declares')
    .option('--prune', "delete ferry's schedules (this task queue's) that the config no longer declares")
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = jsonOnly.extend({ prune: z.boolean().default(false) }).parse(raw);
      const results = await applySchedules(await ctx.client(), await ctx.streams(), ctx.settings.taskQueue, { prune: options.prune });
      if (options.json) printJson(results);
      else if (results.length === 0) process.stdout.write('no schedules in the config, none to prune\n');
      else {
        for (const r of results) process.stdout.write(applyLine(r));
        const tally = new Map<string, number>();
        for (const r of results) tally.set(r.action, (tally.get(r.action) ?? 0) + 1);
        process.stdout.write(`${[...tally].map(([action, n]) => `${n} ${action}`).join(', ')}\n`);
      }
      const conflicts = results.filter((r) => r.action === 'conflict');
      if (conflicts.length) throw new CliExit(ExitCode.config, `ferry: ${conflicts.map((c) => c.detail).join('; ')}`);
    });
}

function listCommand(ctx: CliContext): Command {
  return new Command('list')
    .description("the config's schedules and ferry's schedules in Temporal: state, next and last run")
    .option('--json', 'machine-readable output')
    .action(async (raw: unknown) => {
      const options = jsonOnly.parse(raw);
      const views = await inspectSchedules(await ctx.client(), await ctx.streams(), ctx.settings.taskQueue);
      if (options.json) return printJson(views);
      if (views.length === 0) return void process.stdout.write('no schedules: add `schedule` to a stream or pipeline, then run ferry schedule apply\n');
      printTable(
        [{ header: 'name' }, { header: 'kind' }, { header: 'state' }, { header: 'schedule', maxWidth: 60 }, { header: 'paused' }, { header: 'next run' }, { header: 'last run' }],
        views.map((v) => {
          const last = v.recentRuns.at(-1);
          return [v.name, v.kind, v.state, v.spec, v.paused === undefined ? null : v.paused ? 'yes' : 'no', v.nextRuns[0] ? formatRelative(new Date(v.nextRuns[0])) : null, last ? formatRelative(new Date(last.takenAt)) : null];
        }),
      );
    });
}

/** '2026-11-28 07:00 Europe/Kaliningrad' ('… UTC' without a zone): when the schedule fires, in its own time zone. */
function inZone(at: Date, timezone: string | undefined): string {
  const tz = timezone || 'UTC';
  try {
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(at);
    return `${local.replace(/:00$/, '')} ${tz}`;
  } catch {
    return formatMoment(at);
  }
}

function printView(v: ScheduleView): void {
  const lines = [
    `${v.scheduleId} (${v.kind} "${v.name}"): ${v.state}`,
    `  schedule: ${v.spec ?? '-'}`,
    `  time zone: ${v.timezone ?? '-'}, catch-up window: ${v.catchupWindow ?? '-'}, overlap: ${v.overlap ?? '-'}`,
    `  paused: ${v.paused === undefined ? '-' : v.paused ? 'yes' : 'no'}${v.note ? ` — ${v.note}` : ''}`,
    `  task queue: ${v.taskQueue ?? '-'}`,
    `  next runs: ${v.nextRuns.length ? v.nextRuns.map((t) => inZone(new Date(t), v.timezone)).join(', ') : '-'}`,
    `  actions taken: ${v.actionsTaken ?? '-'}, skipped for overlap: ${v.skippedOverlap ?? '-'}, missed the catch-up window: ${v.missedCatchupWindow ?? '-'}`,
    `  running: ${v.running.length ? v.running.map((r) => r.workflowId).join(', ') : 'nothing'}`,
    `  recent runs:${v.recentRuns.length ? '' : ' none'}`,
    ...v.recentRuns.map((r) => `    ${formatMoment(new Date(r.takenAt))}  ${r.workflowId}  (run ${r.workflowRunId})`),
  ];
  if (v.state === 'missing') lines.push('  not in Temporal yet: ferry schedule apply creates it');
  if (v.state === 'changed') lines.push('  the config says otherwise: ferry schedule apply updates it');
  if (v.state === 'orphan') lines.push('  not in the config any more: ferry schedule apply --prune deletes it');
  process.stdout.write(`${lines.join('\n')}\n`);
}

function describeCommand(ctx: CliContext): Command {
  return new Command('describe')
    .description('one schedule: spec, time zone, catch-up window, next runs, recent scheduled runs')
    .argument('<name>', 'stream or pipeline name')
    .option('--json', 'machine-readable output')
    .action(async (name: string, raw: unknown) => {
      const options = jsonOnly.parse(raw);
      const v = await inspectSchedule(await ctx.client(), await ctx.streams(), ctx.settings.taskQueue, name);
      if (!v) throw new CliExit(ExitCode.config, `no schedule for "${name}": neither the config nor Temporal has "${scheduleIdOf(name)}"`);
      if (options.json) return printJson(v);
      printView(v);
    });
}

/** pause, unpause, trigger, delete: one action on one ferry schedule. */
function actionCommand(
  ctx: CliContext,
  verb: string,
  description: string,
  act: (handle: ScheduleHandle, options: { note?: string | undefined }, d: ScheduleDescription) => Promise<string>,
  withNote = false,
): Command {
  const command = new Command(verb).description(description).argument('<name>', 'stream or pipeline name').option('--json', 'machine-readable output');
  if (withNote) command.option('--note <text>', 'why (shown in the Temporal Web UI)');
  return command.action(async (name: string, raw: unknown) => {
    const options = jsonOnly.extend({ note: z.string().min(1).optional() }).parse(raw);
    const { handle, description: d } = await ferrySchedule(await ctx.client(), name);
    const said = await act(handle, options, d);
    if (options.json) printJson({ name, scheduleId: handle.scheduleId, action: verb, done: true, spec: ferryActionMemo(d.action.memo)?.spec });
    else process.stdout.write(`${said}\n`);
  });
}

/** `ferry schedule <verb>`: Temporal Schedules of the streams and pipelines that declare `schedule`. */
export function scheduleCommand(ctx: CliContext): Command {
  return new Command('schedule')
    .description('Temporal Schedules of the streams and pipelines that declare `schedule`')
    .addCommand(applyCommand(ctx))
    .addCommand(listCommand(ctx))
    .addCommand(describeCommand(ctx))
    .addCommand(
      actionCommand(
        ctx,
        'pause',
        'pause a schedule (no scheduled runs until unpaused; apply keeps it paused)',
        async (h, o) => {
          await h.pause(o.note ?? 'paused with ferry schedule pause');
          return `paused ${h.scheduleId}`;
        },
        true,
      ),
    )
    .addCommand(
      actionCommand(
        ctx,
        'unpause',
        'resume a paused schedule',
        async (h, o, d) => {
          await h.unpause(o.note ?? ferryScheduleNote(d));
          return `unpaused ${h.scheduleId}`;
        },
        true,
      ),
    )
    .addCommand(
      actionCommand(ctx, 'trigger', 'start a scheduled run now (skipped if the stream or pipeline is already running)', async (h) => {
        // trigger() defaults to allow-all: keep the skip policy (the child lock would refuse a second run anyway).
        await h.trigger('SKIP');
        return `triggered ${h.scheduleId}; if a run is in progress the scheduled run is skipped (ferry schedule describe shows it)`;
      }),
    )
    .addCommand(
      actionCommand(ctx, 'delete', 'delete a schedule (runs in progress go on; apply creates it again while the config declares it)', async (h) => {
        await h.delete();
        return `deleted ${h.scheduleId}`;
      }),
    );
}

/** The note apply would set, from what was applied: unpausing restores it. */
function ferryScheduleNote(d: ScheduleDescription): string {
  const memo = ferryScheduleMemo(d.memo);
  const spec = ferryActionMemo(d.action.memo)?.spec;
  return memo && spec ? `ferry ${memo.kind} "${memo.name}": ${spec}; unpaused with ferry schedule unpause` : 'unpaused with ferry schedule unpause';
}
