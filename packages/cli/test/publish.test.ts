// Every @fnts/* package is publish-ready: `npm pack` gives a tarball that names only files it holds and imports only
// what it declares, and the packages a function uses (@fnts/fdk, @fnts/api) install offline in an empty project,
// type-check under strict settings and load. Real npm and tsc; the built dist/ of each package is what is packed.
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDirPerTest } from './support/harness.js';
import { ensureFdkPacks, npm, pack, REPO_ROOT, registryStandIns, TSC } from './support/npm-offline.js';

const exec = promisify(execFile);
const tmp = tempDirPerTest();

const PACKAGES = ['api', 'fdk', 'server', 'cli'] as const;

interface Manifest {
  name: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, { types?: string; default?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The package name a bare import names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** Bare specifiers a JavaScript or declaration file imports, statically or dynamically. */
function bareImports(text: string): string[] {
  const found = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
  return found.filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:'));
}

/** Errors in the @fnts packages' installed declaration files (and the project's own), under strict settings. */
function declarationErrors(project: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(project, 'tsconfig.json'), { skipLibCheck: false }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, ' '));
    },
  });
  if (!config) throw new Error('no tsconfig');
  const program = ts.createProgram(config.fileNames, config.options);
  const ours = program.getSourceFiles().filter((f) => f.fileName.includes('/node_modules/@fnts/') || !f.fileName.includes('/node_modules/'));
  expect(ours.filter((f) => f.isDeclarationFile && f.fileName.includes('/@fnts/fdk/')).length).toBeGreaterThan(5);
  const diagnostics = [
    ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(),
    ...ours.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return diagnostics.map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

beforeAll(ensureFdkPacks);

describe('the @fnts packages as npm packs them', () => {
  it.each(PACKAGES)('%s: names only files its tarball holds, leaves build state out, and declares what it imports', async (dir) => {
    const root = join(REPO_ROOT, 'packages', dir);
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest;
    const cache = join(tmp.path, 'npm-cache');
    const [packed] = JSON.parse(await npm(['pack', root, '--dry-run', '--json'], tmp.path, cache)) as { files: { path: string }[] }[];
    const files = new Set((packed?.files ?? []).map((f) => f.path));

    expect([...files].filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
    const named = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {}),
      ...Object.values(manifest.exports ?? {}).flatMap((e) => [e.types, e.default])];
    const missing = named.filter((p): p is string => p !== undefined).map((p) => p.replace(/^\.\//, '')).filter((p) => !files.has(p));
    expect(missing).toEqual([]);

    const declared = new Set([manifest.name, ...[manifest.dependencies, manifest.optionalDependencies, manifest.peerDependencies].flatMap((d) => Object.keys(d ?? {}))]);
    const undeclared = new Set<string>();
    for (const file of [...files].filter((f) => /\.(js|d\.ts)$/.test(f))) {
      for (const spec of bareImports(await readFile(join(root, file), 'utf8'))) {
        const name = packageOf(spec);
        if (!declared.has(name) && !builtinModules.includes(name)) undeclared.add(`${file}: ${spec}`);
      }
    }
    expect([...undeclared]).toEqual([]);

    if (dir === 'cli') {
      // The FDK that `fnts init` copies into a new function travels inside the CLI's own tarball.
      const packs = JSON.parse(await readFile(join(root, 'dist', 'packs', 'packs.json'), 'utf8')) as Record<string, { file: string }>;
      expect(Object.keys(packs).sort()).toEqual(['@fnts/api', '@fnts/fdk']);
      for (const p of Object.values(packs)) expect(files.has(`dist/packs/${p.file}`)).toBe(true);
    }
  }, 120_000);

  it('installs the FDK and @fnts/api offline in an empty project, where they type-check strictly and load', async () => {
    const cache = join(tmp.path, 'npm-cache');
    const tarballs = join(tmp.path, 'tarballs');
    const fdk = await pack(join(REPO_ROOT, 'packages', 'fdk'), tarballs, cache);
    const api = await pack(join(REPO_ROOT, 'packages', 'api'), tarballs, cache);
    const standIns = await registryStandIns(join(tmp.path, 'registry'), cache);

    const project = join(tmp.path, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({
      name: 'empty', version: '1.0.0', private: true, type: 'module',
      // What a registry would serve for the packages' own dependencies.
      overrides: { typebox: `file:${standIns.typebox}`, 'undici-types': `file:${standIns['undici-types']}` },
    }));
    await npm(['install', fdk, api, standIns['@types/node']], project, cache);

    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
      },
    }));
    await writeFile(join(project, 'index.ts'), [
      "import { handle, handleBatch, type Context } from '@fnts/fdk';",
      "import { AppBody, ERROR_CODE } from '@fnts/api';",
      "import { ENV } from '@fnts/api/contract';",
      "handle(async (input: { name?: string }, ctx: Context) => ({ hi: input.name ?? ctx.callId, env: ENV.format }));",
      'handleBatch(async (records) => void records.map((r) => r.value?.byteLength));',
      'export const names: string[] = [...Object.keys(AppBody.properties), ...Object.keys(ERROR_CODE)];',
      '',
    ].join('\n'));
    await exec(process.execPath, [TSC, '-p', project]);
    // The packages' own declarations checked too (skipLibCheck off for them only: typebox's alone take half a minute).
    expect(declarationErrors(project)).toEqual([]);

    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e',
      "const [f, a] = await Promise.all([import('@fnts/fdk'), import('@fnts/api')]); console.log(typeof f.handle, typeof a.AppBody);"], { cwd: project });
    expect(stdout).toBe('function object\n');
  }, 300_000);
});
