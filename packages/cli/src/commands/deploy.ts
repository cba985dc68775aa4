import { resolve } from 'node:path';
import { ApiClient, type Fn, type Trigger } from '../client.js';
import { cliErrors } from '../errors.js';
import { bumpPatch, loadFuncFile, updateFuncFile } from '../funcfile.js';
import { buildAt } from './build.js';
import type { CommandContext } from './context.js';
import { deployTriggers } from './triggers.js';

export interface DeployOptions {
  dir?: string;
  app?: string;
  createApp?: boolean;
  bump?: boolean;
  noCache?: boolean;
}

export interface DeployResult {
  fn: Fn;
  image: string;
  version: string;
  /** The func.yaml triggers as they are on the server now. */
  triggers: Trigger[];
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * `fnts deploy`: builds the image with the next version, writes that version to func.yaml only once the build
 * succeeded, then creates or updates the app, the function and its func.yaml triggers.
 */
export async function deployCommand(opts: DeployOptions, ctx: CommandContext): Promise<DeployResult> {
  if (!opts.app) throw cliErrors.usage('App name must be provided', 'try `--app APP_NAME`');
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const loaded = await loadFuncFile(dir);
  const { func } = loaded;
  const client = new ApiClient(ctx.settings.apiUrl);

  let app = await client.findApp(opts.app);
  if (!app && !opts.createApp) {
    throw cliErrors.notFound(`app "${opts.app}"`, `create it with --create-app, or \`fnts create app ${opts.app}\``);
  }

  const version = opts.bump === false ? func.version : bumpPatch(func.version);
  const built = await buildAt(dir, func, version, opts.noCache ?? false, ctx);
  if (version !== func.version) await updateFuncFile(loaded, 'version', version);

  app ??= await client.createApp({ name: opts.app });
  const fields = {
    image: built.image,
    ...(func.memory !== undefined ? { memory: func.memory } : {}),
    ...(func.timeout !== undefined ? { timeout: func.timeout } : {}),
    ...(func.idle_timeout !== undefined ? { idle_timeout: func.idle_timeout } : {}),
    config: func.config ?? {},
  };
  const existing = await client.findFn(app.id, func.name);
  const fn = existing
    ? await client.updateFn(existing.id, fields)
    : await client.createFn({ name: func.name, app_id: app.id, ...fields });
  const size = built.bundleBytes > 0 ? ` (function layer ${formatBytes(built.bundleBytes)})` : '';
  ctx.output.info(`Deployed ${func.name} ${version} to app ${app.name}: image ${built.image}${size}\n`);
  const triggers = await deployTriggers(client, app, fn, func.triggers ?? [], ctx);
  ctx.output.info(`Invoke with: fnts invoke ${app.name} ${func.name}\n`);
  return { fn, image: built.image, version, triggers };
}
