import { cliErrors } from '../errors.js';
import { formatTable, type Column } from '../table.js';
import type { CommandContext } from './command-context.js';

/** How read commands (list, inspect) print: an aligned table / indented JSON for people, or JSON for programs. */
export type OutputFormat = 'text' | 'json';

export interface ReadOptions {
  /** `json` for machine-readable output; anything else but `text` is a usage error. */
  output?: string;
}

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text' || value === 'table') return 'text';
  if (value === 'json') return 'json';
  throw cliErrors.usage(`unknown output format "${value}"`, 'use --output json, or leave it out for a table');
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Prints a list: JSON array on stdout, or a table (and a note on stderr when there is nothing to show). */
export function printList<T>(ctx: CommandContext, opts: ReadOptions, items: readonly T[], columns: readonly Column<T>[], empty: string): void {
  if (outputFormat(opts.output) === 'json') {
    ctx.output.out(json(items));
    return;
  }
  if (items.length === 0) {
    ctx.output.info(`${empty}\n`);
    return;
  }
  ctx.output.out(formatTable(columns, items));
}

/** Reads a dotted field path (`annotations.fnproject.io/fn/invokeEndpoint` is tried whole first). */
function pick(object: Record<string, unknown>, field: string): { found: boolean; value?: unknown } {
  if (Object.hasOwn(object, field)) return { found: true, value: object[field] };
  const dot = field.indexOf('.');
  if (dot > 0) {
    const head = field.slice(0, dot);
    const next = object[head];
    if (Object.hasOwn(object, head) && next !== null && typeof next === 'object' && !Array.isArray(next)) {
      return pick(next as Record<string, unknown>, field.slice(dot + 1));
    }
  }
  return { found: false };
}

/**
 * Prints one object (`fnts inspect`), or one field of it. Text output is indented JSON, except that a string field
 * prints bare (`fnts inspect app a id` gives the id alone); `--output json` always prints JSON.
 */
export function printInspect(ctx: CommandContext, opts: ReadOptions, object: object, field: string | undefined, what: string): void {
  const format = outputFormat(opts.output);
  if (field === undefined || field === '') {
    ctx.output.out(json(object));
    return;
  }
  const record = object as Record<string, unknown>;
  const { found, value } = pick(record, field);
  if (!found) {
    throw cliErrors.notFound(`field "${field}" on ${what}`, `fields: ${Object.keys(record).join(', ')}`);
  }
  ctx.output.out(format === 'text' && typeof value === 'string' ? `${value}\n` : json(value));
}
