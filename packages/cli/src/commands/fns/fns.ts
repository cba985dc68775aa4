import { ApiClient, type Fn, type FnPatch } from '../../client.js';
import { cliErrors } from '../../errors.js';
import { parseAnnotationPairs, parseConfigPairs } from '../../pairs.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn, withHints } from '../lookup.js';
import { printInspect, printList, type ReadOptions } from '../print.js';

/** `fnts create|list|inspect|update|delete fn`, `fnts config fn`, `fnts unset config fn` (CONTRACT §5.8). */

export interface FnFieldOptions {
  memory?: number;
  timeout?: number;
  idleTimeout?: number;
  /** `KEY=VALUE` entries from `--config`. */
  config?: string[];
  /** `KEY=VALUE` entries from `--annotation`; VALUE is JSON when it parses as JSON. */
  annotation?: string[];
}

const FN_COLUMNS: readonly Column<Fn>[] = [
  { heading: 'NAME', cell: (f) => f.name },
  { heading: 'IMAGE', cell: (f) => f.image },
  { heading: 'ID', cell: (f) => f.id },
];

/** Fn's CLI refuses an image without a tag (`ValidateTagImageName`, CONTRACT §5.3): `hello` is ambiguous, `hello:0.0.1` is not. */
export function checkImageTag(image: string): void {
  const last = image.split('/').pop() ?? '';
  if (last.split(':').length !== 2) {
    throw cliErrors.usage(`image "${image}" must have a tag`, `for example ${image.split(':')[0] ?? image}:0.0.1`);
  }
}

function fnFields(opts: FnFieldOptions): FnPatch {
  const config = parseConfigPairs(opts.config);
  const annotations = parseAnnotationPairs(opts.annotation);
  return {
    ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.idleTimeout !== undefined ? { idle_timeout: opts.idleTimeout } : {}),
    ...(Object.keys(config).length > 0 ? { config } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

export async function createFnCommand(opts: FnFieldOptions & { app: string; name: string; image: string }, ctx: CommandContext): Promise<Fn> {
  checkImageTag(opts.image);
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await withHints(client.createFn({ app_id: app.id, name: opts.name, image: opts.image, ...fnFields(opts) }), {
    409: `change it with \`fnts update fn ${app.name} ${opts.name}\`, or pick another name`,
  });
  ctx.output.out(`Successfully created function: ${fn.name} with ${fn.image}\n`);
  return fn;
}

export async function listFnsCommand(opts: ReadOptions & { app: string }, ctx: CommandContext): Promise<Fn[]> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fns = await client.listFns(app.id);
  printList(ctx, opts, fns, FN_COLUMNS, `No functions found for app: ${app.name}`);
  return fns;
}

export async function inspectFnCommand(opts: ReadOptions & { app: string; fn: string; field?: string }, ctx: CommandContext): Promise<Fn> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const fn = await requireFn(client, await requireApp(client, opts.app), opts.fn);
  printInspect(ctx, opts, fn, opts.field, `function "${fn.name}"`);
  return fn;
}

export async function updateFnCommand(opts: FnFieldOptions & { app: string; fn: string; image?: string }, ctx: CommandContext): Promise<Fn> {
  const patch: FnPatch = { ...(opts.image !== undefined ? { image: opts.image } : {}), ...fnFields(opts) };
  if (Object.keys(patch).length === 0) {
    throw cliErrors.usage('nothing to update',
      `pass --image, --memory, --timeout, --idle-timeout, --config K=V or --annotation K=V; for example \`fnts update fn ${opts.app} ${opts.fn} --memory 256\``);
  }
  if (patch.image !== undefined) checkImageTag(patch.image);
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const updated = await client.updateFn(fn.id, patch);
  ctx.output.out(`${app.name} ${fn.name} updated\n`);
  return updated;
}

export async function deleteFnCommand(opts: { app: string; fn: string }, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  await client.deleteFn(fn.id);
  ctx.output.out(`${app.name} ${fn.name} deleted\n`);
}

/** `fnts config fn APP FN KEY VALUE`: sets one config key, keeping the others (the server merges). */
export async function configFnCommand(opts: { app: string; fn: string; key: string; value: string }, ctx: CommandContext): Promise<Fn> {
  if (opts.value === '') {
    throw cliErrors.usage(`an empty value would remove "${opts.key}"`,
      `to remove it, run \`fnts unset config fn ${opts.app} ${opts.fn} ${opts.key}\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const updated = await client.updateFn(fn.id, { config: { [opts.key]: opts.value } });
  ctx.output.out(`${app.name} ${fn.name} updated ${opts.key} with ${opts.value}\n`);
  return updated;
}

/** `fnts unset config fn APP FN KEY`: removes one config key (an empty value deletes it on the server). */
export async function unsetFnConfigCommand(opts: { app: string; fn: string; key: string }, ctx: CommandContext): Promise<Fn> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  if (!Object.hasOwn(fn.config, opts.key)) {
    ctx.output.info(`function '${fn.name}' has no config key '${opts.key}'; nothing to remove\n`);
    return fn;
  }
  const updated = await client.updateFn(fn.id, { config: { [opts.key]: '' } });
  ctx.output.out(`Removed key '${opts.key}' from function '${fn.name}' in app '${app.name}'\n`);
  return updated;
}
