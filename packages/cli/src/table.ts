/** One column of a text table: its heading and how to get a cell from a row. */
export interface Column<T> {
  heading: string;
  cell: (row: T) => string;
}

/**
 * An aligned text table: a heading line, then one line per row; columns are separated by at least two spaces,
 * and lines carry no trailing spaces.
 */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map((c) => c.heading), ...rows.map((r) => columns.map((c) => c.cell(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) => line.map((cell, i) => cell.padEnd((widths[i] ?? 0) + 2)).join('').trimEnd())
    .join('\n')
    .concat('\n');
}
