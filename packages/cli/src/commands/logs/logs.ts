import { createInterface } from 'node:readline';
import { ApiClient } from '../../client.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn } from '../lookup.js';

export interface LogsOptions {
  app: string;
  fn: string;
  follow?: boolean;
  tail?: number;
  output?: string;
}

interface LogLine {
  time: string;
  call_id?: string;
  container: string;
  line: string;
}

/** `fnts logs APP FN`: the function's recent output, one line each with time and call id; `--follow` streams. */
export async function logsCommand(opts: LogsOptions, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const stream = await client.logs(fn.id, { tail: opts.tail ?? 100, follow: opts.follow ?? false });
  for await (const raw of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!raw.trim()) continue; // keep-alive blank lines of a followed stream
    if (opts.output === 'json') {
      ctx.output.out(`${raw}\n`);
      continue;
    }
    const l = JSON.parse(raw) as LogLine;
    ctx.output.out(`${l.time} ${l.call_id ?? '-'.padEnd(26)} ${l.line}\n`);
  }
}
