import { dockerClient, pushImage } from '../../build/docker-build.js';
import { type ApiClient, INVOKE_ENDPOINT_ANNOTATION, type App, type Fn, type FnPatch, type Trigger } from '../../client.js';
import { bumpPatch, loadFuncFile, updateFuncFile, type FuncFile } from '../../funcfile.js';
import { startStep } from '../../output.js';
import { buildArgsFor, buildAt, formatBytes } from '../build/build.js';
import type { CommandContext } from '../command-context.js';
import { deployTriggers, describeSource } from '../triggers/triggers.js';

/** One function's part of `fnts deploy`: build, push, bump, create or update, triggers, prune. */

export interface FunctionDeploySettings {
  /** The app's name, known before the app is looked up: it goes into the image name. */
  appName: string;
  bump: boolean;
  /** Build only; the image stays on this engine. Implied when no registry is configured. */
  local: boolean;
  prune: boolean;
  noCache: boolean;
  /** false skips the TypeScript check before the build. */
  typecheck?: boolean;
  buildArg?: string[];
}

export interface FunctionDeployResult {
  fn: Fn;
  image: string;
  version: string;
  layerBytes: number;
  pushed: boolean;
  invokeEndpoint: string;
  /** The func.yaml triggers as they are on the server now. */
  triggers: Trigger[];
  /** What --prune removed (or, without it, what it would remove). */
  pruned: { config: string[]; triggers: string[] };
  stale: { config: string[]; triggers: string[] };
}

/** The function's fields as func.yaml sets them, for a create or an update. */
function fnFields(func: FuncFile, image: string): FnPatch {
  return {
    image,
    ...(func.memory !== undefined ? { memory: func.memory } : {}),
    ...(func.timeout !== undefined ? { timeout: func.timeout } : {}),
    ...(func.idle_timeout !== undefined ? { idle_timeout: func.idle_timeout } : {}),
    ...(func.max_containers !== undefined ? { max_containers: func.max_containers } : {}),
    ...(func.concurrency !== undefined ? { concurrency: func.concurrency } : {}),
    config: func.config ?? {},
    ...(func.annotations && Object.keys(func.annotations).length > 0 ? { annotations: func.annotations } : {}),
  };
}

/**
 * Deploys the function in `dir`: builds the image with the next version (named for `opts.appName`, so functions of
 * different apps never share an image), pushes it when a registry is set (unless
 * `local`), writes the new version to func.yaml only after both succeeded, then creates or updates the function
 * and its triggers in the app that `app()` returns (created on first use).
 */
export async function deployFunction(
  dir: string,
  app: () => Promise<App>,
  client: ApiClient,
  opts: FunctionDeploySettings,
  ctx: CommandContext,
): Promise<FunctionDeployResult> {
  const loaded = await loadFuncFile(dir);
  const { func } = loaded;
  const version = opts.bump ? bumpPatch(func.version) : func.version;
  const built = await buildAt(dir, func, version, {
    app: opts.appName,
    noCache: opts.noCache,
    buildArgs: buildArgsFor(func, opts.buildArg, ctx),
    typecheck: opts.typecheck !== false,
  }, ctx);
  const push = !opts.local && ctx.settings.registry !== undefined;
  if (push) {
    const step = startStep(ctx.output, `pushing ${built.image}`);
    try {
      await pushImage(dockerClient(ctx.settings.dockerSocketPath), built.image,
        ctx.verbose ? (line) => ctx.output.info(`  ${line}\n`) : undefined);
      step.succeed(`Pushed ${built.image}`);
    } catch (err) {
      step.fail();
      throw err;
    }
  }
  if (version !== func.version) await updateFuncFile(loaded, 'version', version);

  const target = await app();
  const existing = await client.findFn(target.id, func.name);
  const fields = fnFields(func, built.image);
  const staleConfig = Object.keys(existing?.config ?? {}).filter((k) => !Object.hasOwn(func.config ?? {}, k));
  if (opts.prune && staleConfig.length > 0) {
    // The server deletes a config key sent with an empty value (CONTRACT §4.4).
    fields.config = { ...fields.config, ...Object.fromEntries(staleConfig.map((k) => [k, ''])) };
  }
  const fn = existing
    ? await client.updateFn(existing.id, fields)
    : await client.createFn({ name: func.name, app_id: target.id, ...fields, image: built.image });
  // An update's response carries no endpoint annotation; a GET does.
  const annotated = (fn.annotations ?? (await client.getFn(fn.id)).annotations)?.[INVOKE_ENDPOINT_ANNOTATION];
  const invokeEndpoint = typeof annotated === 'string' ? annotated : `${ctx.settings.apiUrl}/invoke/${fn.id}`;
  const size = built.layerBytes > 0 ? ` (function layer ${formatBytes(built.layerBytes)})` : '';
  ctx.output.info(`Deployed ${func.name} ${version} to app ${target.name}: image ${built.image}${size}, endpoint ${invokeEndpoint}\n`);

  const triggers = await deployTriggers(client, target, fn, func.triggers ?? [], ctx);
  const wanted = new Set((func.triggers ?? []).map((t) => t.name));
  const staleTriggers = (await client.listTriggers({ appId: target.id, fnId: fn.id })).filter((t) => !wanted.has(t.name));

  const pruned = { config: [] as string[], triggers: [] as string[] };
  if (opts.prune) {
    for (const key of staleConfig) ctx.output.info(`Removed config key ${key} (not in func.yaml)\n`);
    pruned.config = staleConfig;
    for (const t of staleTriggers) {
      await client.deleteTrigger(t.id);
      ctx.output.info(`Removed trigger ${t.name} (${t.type} ${t.source}, not in func.yaml)\n`);
      pruned.triggers.push(t.name);
    }
  } else {
    for (const key of staleConfig) {
      ctx.output.info(`Note: config key ${key} is on the server but not in func.yaml; \`fnts deploy --prune\` removes it\n`);
    }
    for (const t of staleTriggers) {
      ctx.output.info(`Note: trigger ${t.name} (${describeSource(t, target, ctx.settings.apiUrl)}) is on the server but not in func.yaml; \`fnts deploy --prune\` removes it\n`);
    }
  }
  return {
    fn,
    image: built.image,
    version,
    layerBytes: built.layerBytes,
    pushed: push,
    invokeEndpoint,
    triggers,
    pruned,
    stale: { config: staleConfig, triggers: staleTriggers.map((t) => t.name) },
  };
}
