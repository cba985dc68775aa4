import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { cliErrors } from '../../errors.js';
import { findFuncFile, RUNTIMES, SCHEMA_VERSION, type Runtime, type TriggerType } from '../../funcfile.js';
import type { CommandContext } from '../command-context.js';

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

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true },
};

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
    'package.json': `${JSON.stringify({ name, version: '0.0.1', private: true, type: 'module', dependencies: { '@fnts/fdk': '^0.1.0' } }, null, 2)}\n`,
  };
  if (runtime === 'typescript') files['tsconfig.json'] = `${JSON.stringify(TSCONFIG, null, 2)}\n`;
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    // Never clobber the user's code; only func.yaml is replaced with --force.
    if (existsSync(path) && file !== 'func.yaml') continue;
    await writeFile(path, text);
  }
  const endpoint = trigger ? `; its ${trigger} trigger will answer at ${ctx.settings.apiUrl}/t/myapp/${name}` : '';
  ctx.output.info(`Created function "${name}" (${runtime}) in ${dir}\nNext: fnts deploy --app myapp --create-app${endpoint}\n`);
  return { dir, name };
}
