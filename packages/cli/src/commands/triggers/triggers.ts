import {
  ApiClient, HTTP_ENDPOINT_ANNOTATION, type App, type Fn, type NewTrigger, type Trigger, type TriggerOptions, type TriggerPatch,
} from '../../client.js';
import { cliErrors } from '../../errors.js';
import type { FuncTrigger } from '../../funcfile.js';
import { parseAnnotationPairs, parseJsonPairs } from '../../pairs.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, requireFn, requireTrigger, withHints, type Hint } from '../lookup.js';
import { printInspect, printList, type ReadOptions } from '../print.js';

/** `fnts create|list|inspect|update|delete trigger` (CONTRACT §5.8), and the trigger step of `fnts deploy`. */

/** Fn's CLI adds the leading `/` a source needs (`hello` → `/hello`). */
export function withLeadingSlash(source: string): string {
  return source.startsWith('/') ? source : `/${source}`;
}

/** A source as the server keeps it: http paths get their leading `/`; a stream source is a name or URL, kept as is. */
export function normalSource(type: string, source: string): string {
  return type === 'http' ? withLeadingSlash(source) : source;
}

/** What a trigger calls from, for messages: its URL for http, `stream orders` for a stream. */
export function describeSource(trigger: Trigger, app: App, apiUrl: string): string {
  return triggerEndpoint(trigger, app, apiUrl) || `${trigger.type} ${trigger.source}`;
}

/** The trigger's public URL: the server's annotation, or the same rule the server uses when it did not add one. */
export function triggerEndpoint(trigger: Trigger, app: App, apiUrl: string): string {
  const annotated = trigger.annotations?.[HTTP_ENDPOINT_ANNOTATION];
  if (typeof annotated === 'string') return annotated;
  return trigger.type === 'http' ? `${apiUrl}/t/${app.name}/${trigger.source.replace(/^\//, '')}` : '';
}

/**
 * A 409 is either a name already taken on the fn, or a source already taken: an http path in the app (CONTRACT §4.3),
 * or a stream the function already reads through another trigger.
 */
const conflictHint = (app: string, fn: string, name: string, type = 'http'): Hint => (err) =>
  err.apiMessage === 'Trigger already exists'
    ? `change it with \`fnts update trigger ${app} ${fn} ${name}\`, or pick another name`
    : type === 'stream'
      ? `function "${fn}" already reads this stream through another trigger; see them with \`fnts list triggers ${app} ${fn}\``
      : `another trigger in app "${app}" already has this type and source; see them with \`fnts list triggers ${app}\``;

/** A stream trigger on a stream that does not exist is a 400 naming it; the hint says how to make it. */
const missingStreamHint: Hint = (err) => {
  const missing = /^stream "(.+)" does not exist/.exec(err.apiMessage)?.[1];
  return missing ? `create it with \`fnts create stream ${missing}\`, then create the trigger again` : undefined;
};

/** `--option K=V` values: stream triggers only. */
function triggerOptions(type: string, option: readonly string[] | undefined, example: string): TriggerOptions | undefined {
  if (!option || option.length === 0) return undefined;
  if (type !== 'stream') throw cliErrors.usage(`--option is for stream triggers; this one is ${type}`, example);
  return parseJsonPairs(option, '--option');
}

export interface CreateTriggerOptions {
  app: string;
  fn: string;
  name: string;
  /** `http` (the default) or `stream`; the server has the final word. */
  type?: string;
  /** A URL path for http; a stream name or kafka:// URL for stream. */
  source?: string;
  annotation?: string[];
  /** `KEY=VALUE` stream trigger options; VALUE is JSON when it parses, else text. */
  option?: string[];
}

export async function createTriggerCommand(opts: CreateTriggerOptions, ctx: CommandContext): Promise<Trigger> {
  const type = opts.type ?? 'http';
  const example = type === 'stream'
    ? `for example \`fnts create trigger ${opts.app} ${opts.fn} ${opts.name} --type stream --source orders --option start_position=earliest\``
    : `for example \`fnts create trigger ${opts.app} ${opts.fn} ${opts.name} --type http --source /${opts.name}\``;
  if (!opts.source) throw cliErrors.usage('a trigger needs a source', example);
  const options = triggerOptions(type, opts.option, example);
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const annotations = parseAnnotationPairs(opts.annotation);
  const trigger = await withHints(
    client.createTrigger({
      app_id: app.id,
      fn_id: fn.id,
      name: opts.name,
      type,
      source: normalSource(type, opts.source),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(options ? { options } : {}),
    }),
    { 409: conflictHint(app.name, fn.name, opts.name, type), 400: missingStreamHint },
  );
  ctx.output.out(`Successfully created trigger: ${trigger.name}\n`);
  const endpoint = triggerEndpoint(trigger, app, ctx.settings.apiUrl);
  if (endpoint) ctx.output.out(`Trigger Endpoint: ${endpoint}\n`);
  if (trigger.type === 'stream') {
    const dlq = deadLetterTarget(trigger);
    ctx.output.out(`Trigger Stream: ${trigger.source}${dlq ? ` (dead letters go to ${dlq})` : ''}\n`);
  }
  return trigger;
}

/** Where a stream trigger's dead letters go: its dead-letter topic (Kafka) or stream, when the server says. */
function deadLetterTarget(trigger: Trigger): string | undefined {
  const to = trigger.options?.dead_letter_topic ?? trigger.options?.dead_letter_stream;
  return typeof to === 'string' ? to : undefined;
}

export async function listTriggersCommand(opts: ReadOptions & { app: string; fn?: string }, ctx: CommandContext): Promise<Trigger[]> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
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
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const trigger = await requireTrigger(client, app, await requireFn(client, app, opts.fn), opts.name);
  printInspect(ctx, opts, trigger, opts.field, `trigger "${trigger.name}"`);
  return trigger;
}

export async function updateTriggerCommand(
  opts: { app: string; fn: string; name: string; source?: string; annotation?: string[]; option?: string[] },
  ctx: CommandContext,
): Promise<Trigger> {
  const annotations = parseAnnotationPairs(opts.annotation);
  if (!opts.source && Object.keys(annotations).length === 0 && !opts.option?.length) {
    throw cliErrors.usage('nothing to update',
      `pass --source, --annotation K=V or (stream triggers) --option K=V; for example \`fnts update trigger ${opts.app} ${opts.fn} ${opts.name} --source /new-path\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const trigger = await requireTrigger(client, app, fn, opts.name);
  const options = triggerOptions(trigger.type, opts.option,
    `for example \`fnts update trigger ${app.name} ${fn.name} ${trigger.name} --annotation team=payments\``);
  const patch: TriggerPatch = {
    ...(opts.source ? { source: normalSource(trigger.type, opts.source) } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(options ? { options } : {}),
  };
  const updated = await withHints(client.updateTrigger(trigger.id, patch), {
    409: conflictHint(app.name, fn.name, trigger.name, trigger.type), 400: missingStreamHint,
  });
  ctx.output.out(`${app.name} ${fn.name} ${trigger.name} updated\n`);
  return updated;
}

export async function deleteTriggerCommand(opts: { app: string; fn: string; name: string }, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const fn = await requireFn(client, app, opts.fn);
  const trigger = await requireTrigger(client, app, fn, opts.name);
  await client.deleteTrigger(trigger.id);
  ctx.output.out(`${app.name} ${fn.name} ${trigger.name} deleted\n`);
}

/** Canonical JSON (object keys sorted), so `{a: 1, b: 2}` and `{b: 2, a: 1}` compare equal. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The func.yaml options whose value differs from the trigger's on the server (the server keeps every option). */
export function changedOptions(wanted: TriggerOptions | undefined, current: TriggerOptions | undefined): TriggerOptions {
  return Object.fromEntries(Object.entries(wanted ?? {}).filter(([k, v]) => canonical(v) !== canonical(current?.[k])));
}

/**
 * The trigger step of `fnts deploy` (CONTRACT §5.6): creates each func.yaml trigger, or updates the one with that
 * name (its source, and for a stream trigger only the options that changed, so the server's own state such as a
 * pause set with `fnts trigger pause` stays unless func.yaml says otherwise), then prints where it is called from.
 * Triggers no longer in the file are left alone, as Fn does.
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
    const source = normalSource(wanted.type, wanted.source);
    const hints = { 409: conflictHint(app.name, fn.name, wanted.name, wanted.type), 400: missingStreamHint };
    const existing = await client.findTrigger(app.id, fn.id, wanted.name);
    let trigger: Trigger;
    if (!existing) {
      const create: NewTrigger = { app_id: app.id, fn_id: fn.id, name: wanted.name, type: wanted.type, source };
      if (wanted.options && Object.keys(wanted.options).length > 0) create.options = wanted.options;
      trigger = await withHints(client.createTrigger(create), hints);
    } else if (existing.type !== wanted.type) {
      // The server cannot change a trigger's type in place.
      throw cliErrors.usage(`trigger "${wanted.name}" is type ${existing.type} on the server but ${wanted.type} in func.yaml`,
        `delete it with \`fnts delete trigger ${app.name} ${fn.name} ${wanted.name}\` and deploy again`);
    } else {
      const options = changedOptions(wanted.options, existing.options);
      const patch: TriggerPatch = {
        ...(existing.source !== source ? { source } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
      };
      if (Object.keys(patch).length > 0) {
        await withHints(client.updateTrigger(existing.id, patch), hints);
        // An update's response carries no endpoint annotation; a GET does.
        trigger = await client.getTrigger(existing.id);
        if (patch.options) ctx.output.info(`Trigger ${trigger.name}: options changed: ${Object.keys(patch.options).join(', ')}\n`);
      } else {
        trigger = existing;
      }
    }
    deployed.push(trigger);
    if (trigger.type === 'http') {
      ctx.output.info(`Trigger ${trigger.name} (${trigger.type} ${trigger.source}): ${triggerEndpoint(trigger, app, ctx.settings.apiUrl)}\n`);
    } else {
      const dlq = deadLetterTarget(trigger);
      ctx.output.info(`Trigger ${trigger.name} (${trigger.type} ${trigger.source}): ${dlq ? `dead letters to ${dlq}; ` : ''}`
        + `watch it with \`fnts trigger status ${app.name} ${fn.name} ${trigger.name}\`\n`);
    }
  }
  return deployed;
}
