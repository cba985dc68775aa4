import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { cliErrors } from '../../errors.js';
import { findFuncFile, RUNTIMES, SCHEMA_VERSION, type Runtime, type TriggerType } from '../../funcfile.js';
import type { CommandContext } from '../command-context.js';
import { copyFdkPacks, findFdkPacks, type FdkPacks } from './fdk-packs.js';

export interface InitOptions {
  dir?: string;
  name?: string;
  runtime?: string;
  force?: boolean;
  /** `http` adds a trigger named after the function at `/<name>` (Fn's `fn init --trigger http`). */
  trigger?: string;
}

const TS_SOURCE = `import { handle } from '@fnts/fdk';

interface Input {
  name?: string;
}

// Called once per request; the return value is sent back as JSON.
handle(async (input: Input) => ({ message: \`Hello \${input?.name ?? 'World'}\` }));
`;

const JS_SOURCE = `import { handle } from '@fnts/fdk';

// Called once per request; the return value is sent back as JSON.
handle(async (input) => ({ message: \`Hello \${input?.name ?? 'World'}\` }));
`;

// What `npx tsc --noEmit` and `fnts build` check the function against: Node 20's ES modules and its built-ins.
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
};

/** The function's package.json: an ordinary npm package depending on the FDK this CLI carries, when it has one. */
function packageJson(name: string, runtime: Runtime, packs: FdkPacks | undefined, specs: { fdk: string; api: string } | undefined): string {
  const typescript = runtime === 'typescript';
  const manifest = {
    name,
    version: '0.0.1',
    private: true,
    type: 'module',
    ...(typescript ? { scripts: { typecheck: 'tsc --noEmit' } } : {}),
    dependencies: { '@fnts/fdk': specs?.fdk ?? '^0.1.0' },
    ...(typescript ? { devDependencies: { '@types/node': packs?.nodeTypes ?? '^20', typescript: packs?.typescript ?? '^5' } } : {}),
    // The FDK's own dependency on @fnts/api is served from the tarball beside it, not looked up in a registry.
    ...(specs ? { overrides: { '@fnts/api': specs.api } } : {}),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Turns a directory name into a valid function name. */
export function defaultName(dir: string): string {
  return basename(dir).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'func';
}

/**
 * The trigger types `init --trigger` can write: an http trigger needs nothing but the function's name, while a stream
 * trigger needs a stream to read (add it to func.yaml by hand; see the README).
 */
const INIT_TRIGGER_TYPES: readonly TriggerType[] = ['http'];

/** A trigger name from a function name: trigger names allow letters, digits, "_" and "-" but not ".". */
function triggerName(fnName: string): string {
  return fnName.replace(/[^\p{L}\p{N}_-]+/gu, '-');
}

function funcYaml(name: string, runtime: Runtime, trigger: TriggerType | undefined): string {
  const triggers = trigger
    ? ['triggers:', `  - name: ${triggerName(name)}`, `    type: ${trigger}`, `    source: /${name}`]
    : [];
  return [
    `schema_version: ${SCHEMA_VERSION}`,
    `name: ${name}`,
    'version: 0.0.1',
    `runtime: ${runtime}`,
    '# Memory in MiB and timeout in seconds for each call.',
    'memory: 128',
    'timeout: 30',
    ...triggers,
    '',
  ].join('\n');
}

/** `fnts init`: writes func.yaml and a hello-world function. */
export async function initCommand(opts: InitOptions, ctx: CommandContext): Promise<{ dir: string; name: string }> {
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const runtime = (opts.runtime ?? 'typescript') as Runtime;
  if (!RUNTIMES.includes(runtime) || runtime === 'docker') {
    throw cliErrors.usage(`unknown runtime "${opts.runtime}"`, 'use --runtime typescript or --runtime node');
  }
  const name = opts.name ?? defaultName(dir);
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) {
    throw cliErrors.usage(`invalid function name "${name}"`, 'use lowercase letters, digits, ".", "_" or "-"');
  }
  const trigger = opts.trigger === undefined ? undefined : (opts.trigger as TriggerType);
  if (trigger !== undefined && !INIT_TRIGGER_TYPES.includes(trigger)) {
    throw cliErrors.usage(`unknown trigger type "${opts.trigger}"`, `use --trigger ${INIT_TRIGGER_TYPES.join(' or --trigger ')}`);
  }
  await mkdir(dir, { recursive: true });
  const existing = findFuncFile(dir);
  if (existing && !opts.force) throw cliErrors.funcfileExists(existing);

  const source = runtime === 'typescript' ? 'func.ts' : 'func.js';
  const files: Record<string, string> = {
    'func.yaml': funcYaml(name, runtime, trigger),
    [source]: runtime === 'typescript' ? TS_SOURCE : JS_SOURCE,
  };
  if (!existsSync(join(dir, 'package.json'))) {
    const packs = findFdkPacks();
    if (!packs) ctx.output.info('Note: this CLI carries no packed FDK (`npm run build` makes one); package.json names @fnts/fdk from a registry\n');
    files['package.json'] = packageJson(name, runtime, packs, packs ? await copyFdkPacks(packs, dir) : undefined);
  }
  if (runtime === 'typescript') files['tsconfig.json'] = `${JSON.stringify(TSCONFIG, null, 2)}\n`;
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    // Never clobber the user's code; only func.yaml is replaced with --force.
    if (existsSync(path) && file !== 'func.yaml') continue;
    await writeFile(path, text);
  }
  const endpoint = trigger ? `; its ${trigger} trigger will answer at ${ctx.settings.apiUrl}/t/myapp/${name}` : '';
  const check = runtime === 'typescript' ? '; `fnts build` and `fnts deploy` type-check it first' : '';
  ctx.output.info(`Created function "${name}" (${runtime}) in ${dir}\n`
    + `Add npm packages with \`npm install <package>\` there${check}\n`
    + `Next: fnts deploy --app myapp --create-app${endpoint}\n`);
  return { dir, name };
}
