import { ApiClient, type Call } from '../../client.js';
import { cliErrors, type ApiError } from '../../errors.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn, withHints } from '../lookup.js';
import { outputFormat, printInspect, printList, type ReadOptions } from '../print.js';

/** `fnts list calls`, `fnts inspect call`, `fnts get logs` (Fn's names): a function's call history and a call's output. */

/** The most calls one listing asks for: the server keeps 1,000 per function by default. */
export const MAX_LISTED_CALLS = 1000;
/** The error column of the table is cut here; `inspect call` and `--output json` show it whole. */
const ERROR_WIDTH = 60;

const cut = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);

function durationOf(c: Call): string {
  if (c.duration_ms === undefined) return '-';
  return c.duration_ms < 1000 ? `${c.duration_ms}ms` : `${(c.duration_ms / 1000).toFixed(1)}s`;
}

/** What made the call: a stream batch, an HTTP or stream trigger, a detached or a plain invoke. */
function originOf(c: Call): string {
  if (c.batch !== undefined) return `batch ${c.batch}`;
  if (c.trigger_id !== undefined) return `trigger ${c.trigger_id}`;
  return c.type === 'detached' ? 'detached' : 'invoke';
}

const CALL_COLUMNS: readonly Column<Call>[] = [
  { heading: 'ID', cell: (c) => c.id },
  { heading: 'STATUS', cell: (c) => c.status },
  { heading: 'CREATED', cell: (c) => c.created_at },
  { heading: 'DURATION', cell: durationOf },
  { heading: 'ORIGIN', cell: originOf },
  { heading: 'ERROR', cell: (c) => cut((c.error ?? '').replace(/\s+/g, ' '), ERROR_WIDTH) },
];

export interface CallTarget {
  app: string;
  fn: string;
}

async function resolve(ctx: CommandContext, target: CallTarget) {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, target.app);
  const fn = await requireFn(client, app, target.fn);
  return { client, app, fn };
}

/** Hints for a call the server does not know, or whose output it no longer keeps. */
function callHints(target: CallTarget) {
  const list = `see the function's recent calls with \`fnts list calls ${target.app} ${target.fn}\``;
  return {
    404: (err: ApiError) => {
      if (err.code === 'FNTS_ERR_CALL_NOT_FOUND') return `${list}; older records go after FNTS_CALL_HISTORY_MAX_AGE_MS, or past FNTS_CALL_HISTORY_PER_FN`;
      if (err.code === 'FNTS_ERR_CALL_LOG_NOT_KEPT') {
        return `the server keeps a bounded amount of each function's recent output (FNTS_LOG_RING_BYTES); see what is left with \`fnts logs ${target.app} ${target.fn}\``;
      }
      return undefined;
    },
  };
}

/** `fnts list calls APP FN`: the function's recent calls, newest first. */
export async function listCallsCommand(opts: ReadOptions & CallTarget & { limit?: number }, ctx: CommandContext): Promise<Call[]> {
  const limit = opts.limit ?? 30;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTED_CALLS) {
    throw cliErrors.usage(`--limit must be between 1 and ${MAX_LISTED_CALLS}, not ${limit}`);
  }
  const { client, app, fn } = await resolve(ctx, opts);
  const calls = await client.listCalls(fn.id, limit);
  printList(ctx, opts, calls, CALL_COLUMNS, `No calls recorded for function ${fn.name} in app ${app.name}`);
  return calls;
}

/** `fnts inspect call APP FN CALL_ID [field]`: one call's record. */
export async function inspectCallCommand(
  opts: ReadOptions & CallTarget & { callId: string; field?: string }, ctx: CommandContext,
): Promise<Call> {
  const { client, fn } = await resolve(ctx, opts);
  const call = await withHints(client.getCall(fn.id, opts.callId), callHints(opts));
  printInspect(ctx, opts, call, opts.field, `call ${call.id} of function "${fn.name}"`);
  return call;
}

/**
 * `fnts get logs APP FN CALL_ID` (and `fnts logs APP FN --call ID`): what one call printed. A call that printed
 * nothing gets a line on stderr saying so; `json` prints one JSON object a line, as `fnts logs --output json` does.
 */
export async function callLogCommand(opts: ReadOptions & CallTarget & { callId: string }, ctx: CommandContext): Promise<string> {
  const json = outputFormat(opts.output) === 'json';
  const { client, fn } = await resolve(ctx, opts);
  const text = await withHints(client.callLog(fn.id, opts.callId), callHints(opts));
  if (json) {
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    for (const line of lines) ctx.output.out(`${JSON.stringify({ call_id: opts.callId, line })}\n`);
    return text;
  }
  if (text === '') ctx.output.info(`Call ${opts.callId} of function ${fn.name} printed nothing\n`);
  else ctx.output.out(text);
  return text;
}
