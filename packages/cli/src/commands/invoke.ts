import { ApiClient } from '../client.js';
import { cliErrors } from '../errors.js';
import type { CommandContext } from './context.js';

export interface InvokeOptions {
  app: string;
  fn: string;
  contentType?: string;
  endpoint?: string;
  displayCallId?: boolean;
  output?: string;
  /** The request body; main.ts reads it from stdin. */
  body?: Buffer;
}

/** Fn's CLI caps the body it sends at 10 MiB. */
export const MAX_INVOKE_BODY = 10 * 1024 * 1024;

/** `fnts invoke APP FN`: resolves the function's invoke endpoint, sends the body, prints the response. */
export async function invokeCommand(opts: InvokeOptions, ctx: CommandContext): Promise<number> {
  const client = new ApiClient(ctx.settings.apiUrl);
  let endpoint = opts.endpoint;
  if (!endpoint) {
    const app = await client.findApp(opts.app);
    if (!app) throw cliErrors.notFound(`app "${opts.app}"`, 'list apps with `fnts list apps`');
    const fn = await client.findFn(app.id, opts.fn);
    if (!fn) throw cliErrors.notFound(`function "${opts.fn}" in app "${opts.app}"`, 'deploy it with `fnts deploy`');
    const annotated = fn.annotations?.['fnproject.io/fn/invokeEndpoint'];
    endpoint = typeof annotated === 'string' ? annotated : `${ctx.settings.apiUrl}/invoke/${fn.id}`;
  }
  const body = opts.body ?? Buffer.alloc(0);
  if (body.length > MAX_INVOKE_BODY) {
    throw cliErrors.usage(`the request body is ${body.length} bytes; the limit is ${MAX_INVOKE_BODY}`);
  }
  const res = await client.invoke(endpoint, body, opts.contentType ?? 'text/plain');
  const callId = res.headers['fn-call-id'];
  if (opts.output === 'json') {
    ctx.output.out(`${JSON.stringify({ status_code: res.status, headers: res.headers, body: res.body.toString('utf8') })}\n`);
    return res.status < 400 ? 0 : 1;
  }
  if (opts.displayCallId && callId) ctx.output.out(`Call ID: ${String(callId)}\n`);
  if (res.status >= 400) {
    let message = res.body.toString('utf8');
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: print it as it came
    }
    ctx.output.info(`Error invoking function. status: ${res.status} message: ${message}\n`);
    return 1;
  }
  ctx.output.out(res.body.toString('utf8'));
  if (res.body.length > 0 && res.body[res.body.length - 1] !== 0x0a) ctx.output.out('\n');
  return 0;
}
