import type { RunRow } from '../state/schema.js';
import { webUiBase, workflowUrl, type TemporalSettings } from '../temporal.js';
import { formatDuration, formatMoment } from './time-format.js';

/** A run row as `ferry status <stream>` and `ferry runs <stream>` print it, with its Web UI page when there is one. */
export function runLine(r: RunRow, settings: TemporalSettings): string {
  const took = r.finished_at ? formatDuration((r.finished_at.getTime() - r.started_at.getTime()) / 1000) : 'running';
  const url = runUrl(r, settings);
  return (
    `  ${formatMoment(r.started_at)}  ${r.status.padEnd(9)} ${r.mode.padEnd(11)} ${took.padStart(8)}  ${r.batches} batches, created ${r.created}, updated ${r.updated}, skipped ${r.skipped}, deleted ${r.deleted}, failed ${r.failed}` +
    `${r.message ? `\n      ${r.message}` : ''}${r.error ? `\n      error: ${r.error}` : ''}${url ? `\n      ${url}` : ''}\n`
  );
}

export function runUrl(r: RunRow, settings: TemporalSettings): string | undefined {
  const base = webUiBase(settings);
  return base ? workflowUrl(base, settings.namespace, r.workflow_id, r.workflow_run_id) : undefined;
}
