import {
  apiKeyProblem, apiUrlProblem, CONTEXT_NAME, contextFileExists, DEFAULT_API_URL, DEFAULT_CONTEXT, listContexts, readContext,
  readCurrentContext, registryProblem, removeContext, setCurrentContext, writeContext, type StoredContext,
} from '../../context-store.js';
import { cliErrors } from '../../errors.js';
import type { Column } from '../../table.js';
import type { CommandContext } from '../command-context.js';
import { printInspect, printList, type ReadOptions } from '../print.js';

/** `fnts create|use|list|inspect|update|delete context` (CONTRACT §5.8), stored under the settings' home dir. */

export interface ContextFieldOptions {
  apiUrl?: string;
  /** `""` clears it (on update). */
  registry?: string;
  /** `""` clears it (on update). */
  apiKey?: string;
}

/** A context as the commands show it: its values and whether it is the one in effect. */
export interface ContextView extends StoredContext {
  current: boolean;
}

function checkName(name: string): void {
  if (!CONTEXT_NAME.test(name)) {
    throw cliErrors.usage(`invalid context name "${name}"`, 'use letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

function checkFields(opts: ContextFieldOptions): void {
  const urlProblem = opts.apiUrl === undefined ? undefined : apiUrlProblem(opts.apiUrl);
  if (urlProblem) throw cliErrors.usage(`--api-url "${opts.apiUrl}" ${urlProblem}`, 'for example --api-url http://127.0.0.1:8080');
  const regProblem = opts.registry === undefined || opts.registry === '' ? undefined : registryProblem(opts.registry);
  if (regProblem) throw cliErrors.usage(`--registry "${opts.registry}" ${regProblem}`, 'for example --registry localhost:5000/team');
  const keyProblem = opts.apiKey === undefined || opts.apiKey === '' ? undefined : apiKeyProblem(opts.apiKey);
  if (keyProblem) throw cliErrors.usage(`--api-key ${keyProblem}`, 'make a key on the server with `fnts keys create`');
}

function requireContext(ctx: CommandContext, name: string): StoredContext {
  checkName(name);
  const found = readContext(ctx.settings.homeDir, name);
  if (!found) throw cliErrors.contextNotFound(name);
  return found;
}

/** A stored key is shown by its last four characters only: listings end up in terminals and CI logs. */
function view(ctx: CommandContext, c: StoredContext): ContextView {
  const key = c['api-key'];
  return { ...c, ...(key ? { 'api-key': `****${key.slice(-4)}` } : {}), current: c.name === ctx.settings.context };
}

export async function createContextCommand(opts: ContextFieldOptions & { name: string }, ctx: CommandContext): Promise<ContextView> {
  checkName(opts.name);
  checkFields(opts);
  const home = ctx.settings.homeDir;
  if (contextFileExists(home, opts.name) || opts.name === DEFAULT_CONTEXT) throw cliErrors.contextExists(opts.name);
  writeContext(home, opts.name, {
    'api-url': (opts.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    ...(opts.registry ? { registry: opts.registry.replace(/\/+$/, '') } : {}),
    ...(opts.apiKey ? { 'api-key': opts.apiKey } : {}),
  });
  ctx.output.out(`Successfully created context: ${opts.name}\n`);
  ctx.output.info(`Switch to it with \`fnts use context ${opts.name}\`\n`);
  return view(ctx, requireContext(ctx, opts.name));
}

export async function useContextCommand(opts: { name: string }, ctx: CommandContext): Promise<ContextView> {
  const found = requireContext(ctx, opts.name);
  setCurrentContext(ctx.settings.homeDir, opts.name);
  ctx.output.out(`Now using context: ${opts.name}\n`);
  if (ctx.settings.contextSource === 'env' && ctx.settings.context !== opts.name) {
    ctx.output.info(`Note: FNTS_CONTEXT=${ctx.settings.context} is set and takes precedence until you unset it\n`);
  }
  return { ...found, current: true };
}

const COLUMNS: readonly Column<ContextView>[] = [
  { heading: 'CURRENT', cell: (c) => (c.current ? '*' : '') },
  { heading: 'NAME', cell: (c) => c.name },
  { heading: 'API URL', cell: (c) => c['api-url'] },
  { heading: 'REGISTRY', cell: (c) => c.registry ?? '' },
];

export async function listContextsCommand(opts: ReadOptions, ctx: CommandContext): Promise<ContextView[]> {
  const contexts = listContexts(ctx.settings.homeDir).map((c) => view(ctx, c));
  printList(ctx, opts, contexts, COLUMNS, 'No contexts found');
  return contexts;
}

/** Prints a context (the current one by default) as JSON, or one field of it. */
export async function inspectContextCommand(opts: ReadOptions & { name?: string; field?: string }, ctx: CommandContext): Promise<ContextView> {
  const found = view(ctx, requireContext(ctx, opts.name ?? ctx.settings.context));
  printInspect(ctx, opts, found, opts.field, `context "${found.name}"`);
  return found;
}

export async function updateContextCommand(opts: ContextFieldOptions & { name: string }, ctx: CommandContext): Promise<ContextView> {
  checkFields(opts);
  const found = requireContext(ctx, opts.name);
  if (opts.apiUrl === undefined && opts.registry === undefined && opts.apiKey === undefined) {
    throw cliErrors.usage('nothing to update', `pass --api-url, --registry or --api-key; for example \`fnts update context ${opts.name} --registry localhost:5000\``);
  }
  writeContext(ctx.settings.homeDir, opts.name, {
    // The implied default context gets its api-url written out the first time it is changed.
    'api-url': (opts.apiUrl ?? found['api-url']).replace(/\/+$/, ''),
    ...(opts.registry !== undefined ? { registry: opts.registry === '' ? undefined : opts.registry.replace(/\/+$/, '') } : {}),
    ...(opts.apiKey !== undefined ? { 'api-key': opts.apiKey === '' ? undefined : opts.apiKey } : {}),
  });
  ctx.output.out(`Context ${opts.name} updated\n`);
  return view(ctx, requireContext(ctx, opts.name));
}

export async function deleteContextCommand(opts: { name: string }, ctx: CommandContext): Promise<void> {
  requireContext(ctx, opts.name);
  if (opts.name === DEFAULT_CONTEXT) {
    throw cliErrors.usage('the default context cannot be deleted', 'change it with `fnts update context default --api-url URL`');
  }
  const home = ctx.settings.homeDir;
  if (opts.name === ctx.settings.context || opts.name === readCurrentContext(home)) throw cliErrors.contextInUse(opts.name);
  removeContext(home, opts.name);
  ctx.output.out(`Successfully deleted context: ${opts.name}\n`);
}
