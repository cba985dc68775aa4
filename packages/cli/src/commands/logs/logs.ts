import { createInterface } from 'node:readline';
import { ApiClient } from '../../client.js';
import { cliErrors } from '../../errors.js';
import { callLogCommand } from '../calls/calls.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn } from '../lookup.js';

export interface LogsOptions {
  app: string;
  fn: string;
  follow?: boolean;
  tail?: number;
  output?: string;
  /** Only this call's output (`fnts get logs APP FN CALL_ID`). */
  call?: string;
}

interface LogLine {
  time: string;
  call_id?: string;
  container: string;
  line: string;
}

/** `fnts logs APP FN`: the function's recent output, one line each with time and call id; `--follow` streams. */
export async function logsCommand(opts: LogsOptions, ctx: CommandContext): Promise<void> {
  if (opts.call !== undefined) {
    if (opts.follow) throw cliErrors.usage('--call and --follow do not go together', `a call's output is printed whole: \`fnts get logs ${opts.app} ${opts.fn} ${opts.call}\``);
    await callLogCommand({ app: opts.app, fn: opts.fn, callId: opts.call, ...(opts.output ? { output: opts.output } : {}) }, ctx);
    return;
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const stream = await client.logs(fn.id, { tail: opts.tail ?? 100, follow: opts.follow ?? false });
  let printed = 0;
  for await (const raw of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!raw.trim()) continue; // keep-alive blank lines of a followed stream
    printed++;
    if (opts.output === 'json') {
      ctx.output.out(`${raw}\n`);
      continue;
    }
    const l = JSON.parse(raw) as LogLine;
    ctx.output.out(`${l.time} ${l.call_id ?? '-'.padEnd(26)} ${l.line}\n`);
  }
  // Silence would look like a broken command; a followed log ends only when interrupted, so it never gets here.
  if (printed === 0 && !opts.follow && opts.output !== 'json') {
    ctx.output.info(`Function ${fn.name} in app ${app.name} has printed nothing since the server started (or its output rotated out)\n`);
  }
}
