import { ApiClient, type App, type AppPatch } from '../../client.js';
import { cliErrors } from '../../errors.js';
import { parseAnnotationPairs, parseConfigPairs } from '../../pairs.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { requireApp, withHints } from '../lookup.js';
import { printInspect, printList, type ReadOptions } from '../print.js';

/** `fnts create|list|inspect|update|delete app`, `fnts config app`, `fnts unset config app` (CONTRACT §5.8). */

export interface AppFieldOptions {
  /** `KEY=VALUE` entries from `--config`. */
  config?: string[];
  /** `KEY=VALUE` entries from `--annotation`; VALUE is JSON when it parses as JSON. */
  annotation?: string[];
  syslogUrl?: string;
}

const APP_COLUMNS: readonly Column<App>[] = [
  { heading: 'NAME', cell: (a) => a.name },
  { heading: 'ID', cell: (a) => a.id },
];

function appFields(opts: AppFieldOptions): AppPatch {
  const config = parseConfigPairs(opts.config);
  const annotations = parseAnnotationPairs(opts.annotation);
  return {
    ...(Object.keys(config).length > 0 ? { config } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(opts.syslogUrl !== undefined ? { syslog_url: opts.syslogUrl } : {}),
  };
}

export async function createAppCommand(opts: AppFieldOptions & { name: string }, ctx: CommandContext): Promise<App> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await withHints(client.createApp({ name: opts.name, ...appFields(opts) }), {
    409: `change it with \`fnts update app ${opts.name}\`, or pick another name`,
  });
  ctx.output.out(`Successfully created app: ${app.name}\n`);
  return app;
}

export async function listAppsCommand(opts: ReadOptions, ctx: CommandContext): Promise<App[]> {
  const apps = await new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey).listApps();
  printList(ctx, opts, apps, APP_COLUMNS, 'No apps found');
  return apps;
}

export async function inspectAppCommand(opts: ReadOptions & { name: string; field?: string }, ctx: CommandContext): Promise<App> {
  const app = await requireApp(new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey), opts.name);
  printInspect(ctx, opts, app, opts.field, `app "${app.name}"`);
  return app;
}

export async function updateAppCommand(opts: AppFieldOptions & { name: string }, ctx: CommandContext): Promise<App> {
  const patch = appFields(opts);
  if (Object.keys(patch).length === 0) {
    throw cliErrors.usage('nothing to update', `pass --config K=V, --annotation K=V or --syslog-url URL; for example \`fnts update app ${opts.name} --config LOG_LEVEL=debug\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.name);
  const updated = await client.updateApp(app.id, patch);
  ctx.output.out(`app ${app.name} updated\n`);
  return updated;
}

export async function deleteAppCommand(opts: { name: string }, ctx: CommandContext): Promise<void> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.name);
  await client.deleteApp(app.id);
  ctx.output.out(`App ${app.name} deleted\n`);
}

/** `fnts config app APP KEY VALUE`: sets one config key, keeping the others (the server merges). */
export async function configAppCommand(opts: { app: string; key: string; value: string }, ctx: CommandContext): Promise<App> {
  if (opts.value === '') {
    throw cliErrors.usage(`an empty value would remove "${opts.key}"`, `to remove it, run \`fnts unset config app ${opts.app} ${opts.key}\``);
  }
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  const updated = await client.updateApp(app.id, { config: { [opts.key]: opts.value } });
  ctx.output.out(`${app.name} updated ${opts.key} with ${opts.value}\n`);
  return updated;
}

/** `fnts unset config app APP KEY`: removes one config key (an empty value deletes it on the server). */
export async function unsetAppConfigCommand(opts: { app: string; key: string }, ctx: CommandContext): Promise<App> {
  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = await requireApp(client, opts.app);
  if (!Object.hasOwn(app.config ?? {}, opts.key)) {
    ctx.output.info(`app '${app.name}' has no config key '${opts.key}'; nothing to remove\n`);
    return app;
  }
  const updated = await client.updateApp(app.id, { config: { [opts.key]: '' } });
  ctx.output.out(`Removed key '${opts.key}' from app '${app.name}'\n`);
  return updated;
}
