import { ApiClient, HTTP_ENDPOINT_ANNOTATION, type App, type Fn, type Trigger, type TriggerPatch } from '../client.js';
import { cliErrors } from '../errors.js';
import type { FuncTrigger } from '../funcfile.js';
import { parseAnnotationPairs } from '../pairs.js';
import type { Column } from '../table.js';
import type { CommandContext } from './context.js';
import { requireApp, requireFn, requireTrigger, withHints, type Hint } from './lookup.js';
import { printInspect, printList, type ReadOptions } from './print.js';

/** `fnts create|list|inspect|update|delete trigger` (CONTRACT §5.8), and the trigger step of `fnts deploy`. */

/** Fn's CLI adds the leading `/` a source needs (`hello` → `/hello`). */
export function withLeadingSlash(source: string): string {
  return source.startsWith('/') ? source : `/${source}`;
}

/** The trigger's public URL: the server's annotation, or the same rule the server uses when it did not add one. */
export function triggerEndpoint(trigger: Trigger, app: App, apiUrl: string): string {
  const annotated = trigger.annotations?.[HTTP_ENDPOINT_ANNOTATION];
  if (typeof annotated === 'string') return annotated;
  return trigger.type === 'http' ? `${apiUrl}/t/${app.name}/${trigger.source.replace(/^\//, '')}` : '';
}

/** A 409 is either a name already taken on the fn, or a type and source already taken in the app (CONTRACT §4.3). */
const conflictHint = (app: string, fn: string, name: string): Hint => (err) =>
  err.apiMessage === 'Trigger already exists'
    ? `change it with \`fnts update trigger ${app} ${fn} ${name}\`, or pick another name`
    : `another trigger in app "${app}" already has this type and source; see them with \`fnts list triggers ${app}\``;

export interface CreateTriggerOptions {
  app: string;
  fn: string;
  name: string;
  /** Only `http` for now; the server has the final word. */
  type?: string;
  source?: string;
  annotation?: string[];
}

export async function createTriggerCommand(opts: CreateTriggerOptions, ctx: CommandContext): Promise<Trigger> {
  if (!opts.source) {
    throw cliErrors.usage('a trigger needs a source', `for example \`fnts create trigger ${opts.app} ${opts.fn} ${opts.name} --type http --source /${opts.name}\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const annotations = parseAnnotationPairs(opts.annotation);
  const trigger = await withHints(
    client.createTrigger({
      app_id: app.id,
      fn_id: fn.id,
      name: opts.name,
      type: opts.type ?? 'http',
      source: withLeadingSlash(opts.source),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    }),
    { 409: conflictHint(app.name, fn.name, opts.name) },
  );
  ctx.output.out(`Successfully created trigger: ${trigger.name}\n`);
  const endpoint = triggerEndpoint(trigger, app, ctx.settings.apiUrl);
  if (endpoint) ctx.output.out(`Trigger Endpoint: ${endpoint}\n`);
  return trigger;
}

export async function listTriggersCommand(opts: ReadOptions & { app: string; fn?: string }, ctx: CommandContext): Promise<Trigger[]> {
  const client = new ApiClient(ctx.settings.apiUrl);
  const app = await requireApp(client, opts.app);
  const fn = opts.fn === undefined ? undefined : await requireFn(client, app, opts.fn);
  const triggers = await client.listTriggers({ appId: app.id, ...(fn ? { fnId: fn.id } : {}) });
  const columns: Column<Trigger>[] = [
    { heading: 'NAME', cell: (t) => t.name },
    { heading: 'ID', cell: (t) => t.id },
    { heading: 'TYPE', cell: (t) => t.type },
    { heading: 'SOURCE', cell: (t) => t.source },
    { heading: 'ENDPOINT', cell: (t) => triggerEndpoint(t, app, ctx.settings.apiUrl) },
  ];
  // For a whole app, say which function each trigger calls.
  if (!fn && triggers.length > 0) {
    const names = new Map((await client.listFns(app.id)).map((f) => [f.id, f.name]));
    columns.unshift({ heading: 'FUNCTION', cell: (t) => names.get(t.fn_id) ?? t.fn_id });
  }
  printList(ctx, opts, triggers, columns, fn ? `No triggers found for function: ${fn.name}` : `No triggers found for app: ${app.name}`);
  return triggers;
}

export async function inspectTriggerCommand(
  opts: ReadOptions & { app: string; fn: string; name: string; field?: string },
  ctx: CommandContext,
): Promise<Trigger> {
  const client = new ApiClient(ctx.settings.apiUrl);
  const app = await requireApp(client, opts.app);
  const trigger = await requireTrigger(client, app, await requireFn(client, app, opts.fn), opts.name);
  printInspect(ctx, opts, trigger, opts.field, `trigger "${trigger.name}"`);
  return trigger;
}

export async function updateTriggerCommand(
  opts: { app: string; fn: string; name: string; source?: string; annotation?: string[] },
  ctx: CommandContext,
): Promise<Trigger> {
  const annotations = parseAnnotationPairs(opts.annotation);
  const patch: TriggerPatch = {
    ...(opts.source ? { source: withLeadingSlash(opts.source) } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  if (Object.keys(patch).length === 0) {
    throw cliErrors.usage('nothing to update',
      `pass --source or --annotation K=V; for example \`fnts update trigger ${opts.app} ${opts.fn} ${opts.name} --source /new-path\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const trigger = await requireTrigger(client, app, fn, opts.name);
  const updated = await withHints(client.updateTrigger(trigger.id, patch), { 409: conflictHint(app.name, fn.name, trigger.name) });
  ctx.output.out(`${app.name} ${fn.name} ${trigger.name} updated\n`);
  return updated;
}

export async function deleteTriggerCommand(opts: { app: string; fn: string; name: string }, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const trigger = await requireTrigger(client, app, fn, opts.name);
  await client.deleteTrigger(trigger.id);
  ctx.output.out(`${app.name} ${fn.name} ${trigger.name} deleted\n`);
}

/**
 * The trigger step of `fnts deploy` (CONTRACT §5.6): creates each func.yaml trigger, or updates the one with that
 * name, then prints its endpoint. Triggers no longer in the file are left alone, as Fn does.
 */
export async function deployTriggers(
  client: ApiClient,
  app: App,
  fn: Fn,
  triggers: readonly FuncTrigger[],
  ctx: CommandContext,
): Promise<Trigger[]> {
  const deployed: Trigger[] = [];
  for (const wanted of triggers) {
    const source = withLeadingSlash(wanted.source);
    const existing = await client.findTrigger(app.id, fn.id, wanted.name);
    let trigger: Trigger;
    if (!existing) {
      trigger = await withHints(
        client.createTrigger({ app_id: app.id, fn_id: fn.id, name: wanted.name, type: wanted.type, source }),
        { 409: conflictHint(app.name, fn.name, wanted.name) },
      );
    } else if (existing.type !== wanted.type) {
      // The server cannot change a trigger's type in place.
      throw cliErrors.usage(`trigger "${wanted.name}" is type ${existing.type} on the server but ${wanted.type} in func.yaml`,
        `delete it with \`fnts delete trigger ${app.name} ${fn.name} ${wanted.name}\` and deploy again`);
    } else if (existing.source !== source) {
      await withHints(client.updateTrigger(existing.id, { source }), { 409: conflictHint(app.name, fn.name, wanted.name) });
      // An update's response carries no endpoint annotation; a GET does.
      trigger = await client.getTrigger(existing.id);
    } else {
      trigger = existing;
    }
    deployed.push(trigger);
    ctx.output.info(`Trigger ${trigger.name} (${trigger.type} ${trigger.source}): ${triggerEndpoint(trigger, app, ctx.settings.apiUrl)}\n`);
  }
  return deployed;
}
