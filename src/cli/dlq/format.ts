import type { DeadLetterDetail, DeadLetterSummary } from '../../state/dead-letter-queue.js';

/** Dead letters as people and scripts see them. */

/** The key parts, or null for a record that had no key (its stored key is a placeholder). */
export function keyParts(recordKey: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(recordKey);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** `42` for a one-part key, `["a","b"]` for a composite one, `(no key)` for none. */
export function displayKey(recordKey: string): string {
  const parts = keyParts(recordKey);
  if (!parts) return '(no key)';
  return parts.length === 1 ? (parts[0] as string) : recordKey;
}

/** The error without its `stream "…", record …: ` prefix, which a table already shows in its own columns. */
export function shortError(letter: Pick<DeadLetterSummary, 'stream' | 'recordKey' | 'error'>): string {
  for (const record of [letter.recordKey, '(no key)']) {
    const prefix = `stream "${letter.stream}", record ${record}: `;
    if (letter.error.startsWith(prefix)) return letter.error.slice(prefix.length);
  }
  return letter.error;
}

export function summaryJson(l: DeadLetterSummary) {
  return {
    id: l.id,
    stream: l.stream,
    system: l.system,
    key: keyParts(l.recordKey),
    recordKey: l.recordKey,
    stage: l.stage,
    attempts: l.attempts,
    error: l.error,
    runId: l.runId,
    firstFailedAt: l.firstFailedAt.toISOString(),
    lastFailedAt: l.lastFailedAt.toISOString(),
  };
}

export function detailJson(l: DeadLetterDetail) {
  return { ...summaryJson(l), issues: l.issues, raw: l.raw, batchId: l.batchId };
}

/** How wide the last (error) column may be: what the terminal leaves, or a fixed width in a pipe. */
export function errorWidth(otherWidths: readonly number[], gap = 2): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  if (!columns) return 160;
  const used = otherWidths.reduce((sum, w) => sum + w + gap, 0);
  return Math.max(30, columns - used);
}
