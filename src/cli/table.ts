/**
 * Plain-text tables for the CLI: one header row, aligned columns, no colours or
 * box characters, so the output reads the same in a terminal, a log or a pipe.
 * Shared by every command that lists things (status, dead letters, schedules ...).
 *
 *   printTable(
 *     [{ header: 'stream' }, { header: 'created', align: 'right' }],
 *     [['crm.customers', '120'], ['crm.orders', '7']],
 *   );
 */

export interface TableColumn {
  header: string;
  /** default 'left'; numbers read better on the right */
  align?: 'left' | 'right';
  /** cells longer than this are cut with '…' (default: no limit) */
  maxWidth?: number;
}

/** A cell: text, or a number, or null/undefined for "nothing" (shown as '-'). */
export type TableCell = string | number | null | undefined;

const EMPTY = '-';

function cellText(cell: TableCell, maxWidth: number | undefined): string {
  // Table cells are one line each: a message with a newline would break the columns.
  const text = cell === null || cell === undefined || cell === '' ? EMPTY : String(cell).replace(/\s*\n\s*/g, ' ');
  return maxWidth !== undefined && text.length > maxWidth ? `${text.slice(0, Math.max(1, maxWidth - 1))}…` : text;
}

/** The table as text, one line per row, lines ending in '\n'; trailing spaces trimmed. */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly TableCell[])[], gap = 2): string {
  const texts = rows.map((row) => columns.map((c, i) => cellText(row[i], c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...texts.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...texts.map(line)].map((l) => `${l}\n`).join('');
}

/** Writes the table to stdout (or the given stream). */
export function printTable(columns: readonly TableColumn[], rows: readonly (readonly TableCell[])[], out: NodeJS.WritableStream = process.stdout): void {
  out.write(renderTable(columns, rows));
}
