import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { appFileFields, loadAppFile, type AppFile } from '../../appfile.js';
import { ApiClient, type App } from '../../client.js';
import { CliError, cliErrors } from '../../errors.js';
import { findFuncFile, loadFuncFile } from '../../funcfile.js';
import { typecheckIfNeeded } from '../build/build.js';
import type { CommandContext } from '../command-context.js';
import { deployFunction, type FunctionDeployResult } from './deploy-function.js';
import { outputFormat } from '../print.js';
import { triggerEndpoint } from '../triggers/triggers.js';

export interface DeployOptions {
  dir?: string;
  /** The app; defaults to app.yaml's `name`. */
  app?: string;
  createApp?: boolean;
  bump?: boolean;
  noCache?: boolean;
  /** Build only, no push; the default when no registry is configured. */
  local?: boolean;
  /** Deploy every function directory below `dir` (which needs an app.yaml). */
  all?: boolean;
  /** Remove the function's config keys and triggers that are no longer in func.yaml. */
  prune?: boolean;
  /** `KEY=VALUE` entries from `--build-arg`. */
  buildArg?: string[];
  /** false (`--no-typecheck`) skips the TypeScript check before each build. */
  typecheck?: boolean;
  /** `json` prints the result as JSON on stdout. */
  output?: string;
}

export interface DeployResult {
  app: App;
  functions: FunctionDeployResult[];
}

/** Directories at or below `root` holding a func.yaml, skipping node_modules and hidden directories. */
export async function findFunctionDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (findFuncFile(dir)) found.push(dir);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) await walk(join(dir, e.name));
    }
  };
  await walk(root);
  return found.sort();
}

/** Finds the app, creating it (with app.yaml's fields) on first use when allowed, or updating it from app.yaml. */
function appResolver(client: ApiClient, name: string, appFile: AppFile | undefined, create: boolean, ctx: CommandContext): () => Promise<App> {
  let resolved: Promise<App> | undefined;
  const resolveApp = async (): Promise<App> => {
    const fields = appFile ? appFileFields(appFile) : {};
    const found = await client.findApp(name);
    if (!found) {
      if (!create) throw cliErrors.notFound(`app "${name}"`, `create it with --create-app, or \`fnts create app ${name}\``);
      const app = await client.createApp({ name, ...fields });
      ctx.output.info(`Created app ${name}\n`);
      return app;
    }
    if (Object.keys(fields).length === 0) return found;
    return client.updateApp(found.id, fields);
  };
  return () => (resolved ??= resolveApp());
}

function resultJson(app: App, functions: readonly FunctionDeployResult[], apiUrl: string): unknown {
  return {
    app: app.name,
    functions: functions.map((f) => ({
      name: f.fn.name,
      id: f.fn.id,
      version: f.version,
      image: f.image,
      pushed: f.pushed,
      layer_bytes: f.layerBytes,
      invoke_endpoint: f.invokeEndpoint,
      triggers: f.triggers.map((t) => ({
        name: t.name, type: t.type, source: t.source, endpoint: triggerEndpoint(t, app, apiUrl),
        ...(t.type === 'stream' && t.options ? { options: t.options } : {}),
      })),
      pruned: f.pruned,
    })),
  };
}

/**
 * `fnts deploy [dir]` / `fnts deploy --all`: for each function, builds the image with the next version, pushes it
 * to the context's registry (unless --local or there is none), bumps func.yaml only once that succeeded, then
 * creates or updates the app, the function and its func.yaml triggers; --prune removes what left func.yaml.
 */
export async function deployCommand(opts: DeployOptions, ctx: CommandContext): Promise<DeployResult> {
  const json = outputFormat(opts.output) === 'json';
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const appFile = await loadAppFile(dir);
  if (opts.all && !appFile) {
    throw cliErrors.usage(`deploy --all needs an app.yaml in ${dir}`, 'create one with `name: myapp`, then run `fnts deploy --all` there');
  }
  const appName = opts.app ?? appFile?.app.name;
  if (!appName) throw cliErrors.usage('App name must be provided', 'try `--app APP_NAME`, or put `name: APP_NAME` in app.yaml');

  const dirs = opts.all ? await findFunctionDirs(dir) : [dir];
  if (dirs.length === 0) throw cliErrors.usage(`no func.yaml at or below ${dir}`, 'create a function with `fnts init NAME` here');
  // Every func.yaml is checked (and every TypeScript function type-checked) before anything is built, so a typo in
  // the last one does not leave a half deploy.
  if (opts.all) for (const d of dirs) await loadFuncFile(d);
  const checkedAll = opts.all === true && opts.typecheck !== false;
  if (checkedAll) for (const d of dirs) await typecheckIfNeeded(d, (await loadFuncFile(d)).func, ctx);

  const client = new ApiClient(ctx.settings.apiUrl, ctx.settings.apiKey);
  const app = appResolver(client, appName, appFile?.app, opts.createApp ?? false, ctx);
  if (!opts.createApp) await app(); // fail fast on a missing app, before a build
  const settings = {
    appName,
    bump: opts.bump !== false,
    local: opts.local ?? false,
    prune: opts.prune ?? false,
    noCache: opts.noCache ?? false,
    typecheck: opts.typecheck !== false && !checkedAll,
    ...(opts.buildArg ? { buildArg: opts.buildArg } : {}),
  };
  if (!settings.local && !ctx.settings.registry) settings.local = true;

  const functions: FunctionDeployResult[] = [];
  for (const fnDir of dirs) {
    try {
      functions.push(await deployFunction(fnDir, app, client, settings, ctx));
    } catch (err) {
      // With several functions, say which one failed; the ones before it stay deployed.
      if (!opts.all || !(err instanceof CliError)) throw err;
      const where = relative(dir, fnDir) || '.';
      const done = functions.length > 0 ? ` (deployed before it: ${functions.map((f) => f.fn.name).join(', ')})` : '';
      throw new CliError(err.code, `${where}: ${err.message}${done}`, err.hint, err.exitCode);
    }
  }
  const target = await app();
  if (json) ctx.output.out(`${JSON.stringify(resultJson(target, functions, ctx.settings.apiUrl), null, 2)}\n`);
  else if (functions.length > 1) ctx.output.info(`Deployed ${functions.length} functions to app ${target.name}\n`);
  if (!json && functions.length === 1) ctx.output.info(`Invoke with: fnts invoke ${target.name} ${functions[0]?.fn.name}\n`);
  return { app: target, functions };
}
