import { readFile } from 'node:fs/promises';
import { ApiClient } from '../../client.js';
import { cliErrors } from '../../errors.js';
import { findFuncFile } from '../../funcfile.js';
import { yaml } from '../../yaml-module.js';
import type { CommandContext } from '../command-context.js';
import { outputFormat } from '../print.js';
import { MAX_INVOKE_BODY } from './read-body.js';

export interface InvokeOptions {
  app: string;
  fn: string;
  /** Default: func.yaml `content_type` when the cwd holds this function's func.yaml, else text/plain. */
  contentType?: string;
  endpoint?: string;
  displayCallId?: boolean;
  output?: string;
  /** The request body; main.ts reads it from stdin. */
  body?: Buffer;
}

export { MAX_INVOKE_BODY, readBody } from './read-body.js';

/**
 * The content type func.yaml in `dir` sets for this function, if any. Only the two keys are read, so a func.yaml
 * with problems elsewhere does not stop an invoke.
 */
export async function funcFileContentType(dir: string, fnName: string): Promise<string | undefined> {
  const path = findFuncFile(dir);
  if (!path) return undefined;
  let values: Record<string, unknown> | null;
  try {
    values = yaml().parseDocument(await readFile(path, 'utf8')).toJS() as Record<string, unknown> | null;
  } catch {
    return undefined; // not YAML at all: `fnts build` and `deploy` report it with its lines
  }
  const type = values?.content_type;
  return values?.name === fnName && typeof type === 'string' && type !== '' ? type : undefined;
}

/** `fnts invoke APP FN`: resolves the function's invoke endpoint, sends the body, prints the response. */
export async function invokeCommand(opts: InvokeOptions, ctx: CommandContext): Promise<number> {
  const json = outputFormat(opts.output) === 'json';
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
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
  const contentType = opts.contentType ?? (await funcFileContentType(ctx.cwd, opts.fn)) ?? 'text/plain';
  const res = await client.invoke(endpoint, body, contentType);
  const callId = res.headers['fn-call-id'];
  if (json) {
    ctx.output.out(`${JSON.stringify({ status_code: res.status, headers: res.headers, body: res.body.toString('utf8') })}\n`);
    return res.status < 400 ? 0 : 1;
  }
  if (opts.displayCallId && callId) ctx.output.out(`Call ID: ${String(callId)}\n`);
  if (res.status >= 400) {
    ctx.output.info(failureReport(opts, res.status, res.body, typeof callId === 'string' ? callId : undefined));
    return 1;
  }
  ctx.output.out(res.body.toString('utf8'));
  if (res.body.length > 0 && res.body[res.body.length - 1] !== 0x0a) ctx.output.out('\n');
  return 0;
}

/** Fn's error line, then what leads to the fix: the function's own message, the call id, and how to see its output. */
export function failureReport(target: { app: string; fn: string }, status: number, body: Buffer, headerCallId: string | undefined): string {
  let message = body.toString('utf8');
  let parsed: { message?: unknown; detail?: unknown; call_id?: unknown } = {};
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    // not JSON: print it as it came
  }
  if (typeof parsed.message === 'string') message = parsed.message;
  const lines = [`Error invoking function. status: ${status} message: ${message}`];
  // The server already strips control characters; another server might not, and this goes to a terminal.
  // eslint-disable-next-line no-control-regex
  const clean = (text: string) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  if (typeof parsed.detail === 'string' && parsed.detail !== '') lines.push(`  error: ${clean(parsed.detail)}`);
  const callId = headerCallId ?? (typeof parsed.call_id === 'string' ? parsed.call_id : undefined);
  if (callId !== undefined) {
    lines.push(`  call id: ${clean(callId)}`);
    lines.push(`  see its output: fnts get logs ${target.app} ${target.fn} ${clean(callId)}`);
  }
  return `${lines.join('\n')}\n`;
}
