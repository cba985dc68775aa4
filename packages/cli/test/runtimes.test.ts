// Each runtime builds a working image on the real Docker engine: typescript, node (with native-addon packages copied
// instead of bundled), docker (the user's Dockerfile, .dockerignore, --build-arg, the fnts/node base on demand), and
// run_image replacing the base. Images carry fnts.test=<run> and are removed after the file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImageTag } from '../src/build/base-image.js';
import { buildImage } from '../src/build/docker-build.js';
import { isIgnored, parseDockerignore } from '../src/build/dockerignore.js';
import { fromImages } from '../src/build/function-image.js';
import { dependencyClosure, findNativePackages } from '../src/build/native-addons.js';
import { buildCommand } from '../src/commands/build/build.js';
import { docker, imagesPerFile, runInImage } from './support/docker.js';
import { captureContext, tempDirPerTest, type Captured } from './support/harness.js';

const tmp = tempDirPerTest();
const { run, labels } = imagesPerFile();

async function files(dir: string, content: Record<string, string>): Promise<string> {
  for (const [name, text] of Object.entries(content)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

function cli(dir: string, verbose = false): Captured {
  const c = captureContext('http://127.0.0.1:1', dir, { imageLabels: labels });
  if (verbose) c.ctx.verbose = true;
  return c;
}

const funcYaml = (name: string, runtime: string, extra: string[] = []) =>
  ['schema_version: 20180708', `name: ${name}`, 'version: 0.0.1', `runtime: ${runtime}`, ...extra, ''].join('\n');

/** A node_modules with a package holding a .node file (imported), its plain dependency, and an unused native one. */
async function nativeModules(dir: string): Promise<void> {
  await files(dir, {
    'node_modules/fake-native/package.json': JSON.stringify({ name: 'fake-native', main: 'index.js', dependencies: { 'dep-a': '1' } }),
    'node_modules/fake-native/index.js': "exports.hello = () => 'native hello ' + require('dep-a').name;\n",
    'node_modules/fake-native/build/Release/addon.node': 'not really an ELF file',
    'node_modules/dep-a/package.json': JSON.stringify({ name: 'dep-a', main: 'index.js' }),
    'node_modules/dep-a/index.js': "exports.name = 'dep-a';\n",
    'node_modules/@tools/unused-native/package.json': JSON.stringify({ name: '@tools/unused-native' }),
    'node_modules/@tools/unused-native/binding.gyp': '{}',
  });
}

describe('runtime typescript', () => {
  it('bundles func.ts and the FDK onto the base image', async () => {
    const dir = await files(tmp.path, {
      'func.yaml': funcYaml(`rt-ts-${run}`, 'typescript'),
      'func.ts': "import { handle } from '@fnts/fdk';\nconst greet = (n: string): string => `hi ${n}`;\nhandle(async () => greet('ts'));\n",
    });
    const c = cli(dir);
    const built = await buildCommand({}, c.ctx);
    expect(built.image).toBe(`rt-ts-${run}:0.0.1`);
    expect(built.layerBytes).toBeGreaterThan(1000);
    expect(c.stderr()).toContain(`Built rt-ts-${run}:0.0.1 (function layer `);
    const info = await docker.getImage(built.image).inspect();
    expect(info.Config.Labels).toMatchObject({ 'fnts.test': run, 'fnts.kind': 'function', 'fnts.function': `rt-ts-${run}` });
    // The bundled FDK maps stack traces itself, on first use (packages/fdk/src/source-maps.ts).
    expect(info.Config.Entrypoint).toEqual(['node', '/function/func.mjs']);
    expect(await runInImage(built.image, ['--check', '/function/func.mjs'], ['node'])).toMatchObject({ code: 0 });
  });
});

describe('runtime node', () => {
  it('bundles plain JavaScript', async () => {
    const dir = await files(tmp.path, {
      'func.yaml': funcYaml(`rt-js-${run}`, 'node'),
      'func.js': "const { handle } = require('@fnts/fdk');\nhandle(async (input) => ({ got: input }));\n",
    });
    const built = await buildCommand({ output: 'json' }, cli(dir).ctx);
    expect(await runInImage(built.image, ['--check', '/function/func.mjs'], ['node'])).toMatchObject({ code: 0 });
    expect(built.nativePackages).toEqual([]);
  });

  it('says to use runtime typescript when the directory has only func.ts', async () => {
    const dir = await files(tmp.path, { 'func.yaml': funcYaml(`rt-js2-${run}`, 'node'), 'func.ts': 'export {};\n' });
    await expect(buildCommand({}, cli(dir).ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_BUILD', hint: 'set `runtime: typescript` in func.yaml',
    });
  });

  it('finds packages holding a .node file or a binding.gyp, and what they depend on', async () => {
    await nativeModules(tmp.path);
    const found = await findNativePackages(tmp.path);
    expect(found.map((n) => [n.name, n.evidence])).toEqual([
      ['@tools/unused-native', join('node_modules', '@tools', 'unused-native', 'binding.gyp')],
      ['fake-native', join('node_modules', 'fake-native', 'build', 'Release', 'addon.node')],
    ]);
    const fake = found.find((n) => n.name === 'fake-native');
    expect(await dependencyClosure(tmp.path, [fake?.dir ?? ''])).toEqual([join('node_modules', 'dep-a'), join('node_modules', 'fake-native')]);
  });

  it('copies an imported native-addon package with its dependencies instead of bundling it, and says so', async () => {
    const dir = await files(tmp.path, {
      'func.yaml': funcYaml(`rt-native-${run}`, 'node'),
      'func.js': "import { handle } from '@fnts/fdk';\nimport { hello } from 'fake-native';\nhandle(async () => hello());\n",
    });
    await nativeModules(dir);
    const c = cli(dir);
    const built = await buildCommand({}, c.ctx);
    expect(built.nativePackages).toEqual(['fake-native']);
    expect(c.stderr()).toContain(
      `Note: fake-native has a native addon (${join('node_modules', 'fake-native', 'build', 'Release', 'addon.node')}): copied with its node_modules instead of bundled`,
    );
    expect(c.stderr()).not.toContain('unused-native');
    // Resolved from /function the way the bundle's import is at run time; the unused native package stays out.
    const probe = [
      "const r = require('node:module').createRequire('/function/func.mjs');",
      "console.log(r('fake-native').hello(), require('node:fs').existsSync('/function/node_modules/@tools'));",
    ].join(' ');
    expect(await runInImage(built.image, ['-e', probe], ['node'])).toEqual({ code: 0, output: 'native hello dep-a false\n' });
  });
});

describe('runtime docker', () => {
  it("builds the user's Dockerfile with --build-arg and .dockerignore, making fnts/node on demand", async () => {
    const dir = await files(tmp.path, {
      'func.yaml': funcYaml(`rt-docker-${run}`, 'docker'),
      Dockerfile: [`FROM ${baseImageTag()}`, 'ARG GREETING=Hello', 'ENV GREETING=${GREETING}', 'COPY . /function/', 'ENTRYPOINT ["node", "/function/func.mjs"]', ''].join('\n'),
      '.dockerignore': '# not for the image\nsecret.txt\nlogs\n!logs/keep.log\n',
      'func.mjs': 'console.log(process.env.GREETING);\n',
      'secret.txt': 'do not ship',
      'logs/keep.log': 'kept',
      'logs/drop.log': 'dropped',
    });
    const c = cli(dir, true);
    const built = await buildCommand({ buildArg: ['GREETING=Hi'] }, c.ctx);
    expect(c.stderr()).toMatch(/Step 1\/\d+ : FROM fnts\/node:/); // --verbose streams Docker's output
    const info = await docker.getImage(built.image).inspect();
    expect(info.Config.Env).toContain('GREETING=Hi');
    const probe = "const fs = require('node:fs'); console.log(['secret.txt', 'logs/keep.log', 'logs/drop.log', 'func.mjs'].map((f) => fs.existsSync('/function/' + f)).join(' '));";
    expect(await runInImage(built.image, ['-e', probe], ['node'])).toEqual({ code: 0, output: 'false true false true\n' });
  });

  it('refuses a FROM fnts/node tag for another Node major, saying which one to use', async () => {
    const dir = await files(tmp.path, { 'func.yaml': funcYaml(`rt-docker2-${run}`, 'docker'), Dockerfile: 'FROM fnts/node:4\n' });
    await expect(buildCommand({}, cli(dir).ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_BUILD',
      message: `the Dockerfile starts FROM fnts/node:4, but this CLI runs Node ${process.versions.node} and builds ${baseImageTag()}`,
      hint: `change the FROM line to ${baseImageTag()}`,
    });
  });

  it('notes that --build-arg is ignored for the bundling runtimes', async () => {
    const dir = await files(tmp.path, { 'func.yaml': funcYaml(`rt-ts2-${run}`, 'typescript'), 'func.ts': 'export {};\n' });
    const c = cli(dir);
    await buildCommand({ buildArg: ['A=1'] }, c.ctx);
    expect(c.stderr()).toContain('Note: --build-arg is read by a Dockerfile (runtime docker); ignored for runtime typescript');
  });
});

describe('run_image', () => {
  it('replaces the base image in the FROM line', async () => {
    const runImage = `fnts-cli-test-run-${run}:1`;
    const ctxDir = await files(join(tmp.path, 'run-image'), { Dockerfile: `FROM ${baseImageTag()}\nENV RUN_IMAGE_MARK=yes\n` });
    await buildImage(docker, { contextDir: ctxDir, tag: runImage, labels });
    const dir = await files(join(tmp.path, 'fn'), {
      'func.yaml': funcYaml(`rt-run-${run}`, 'typescript', [`run_image: ${runImage}`]),
      'func.ts': 'export {};\n',
    });
    const c = cli(dir);
    const built = await buildCommand({}, c.ctx);
    expect(c.stderr()).not.toContain('preparing the base image');
    expect((await docker.getImage(built.image).inspect()).Config.Env).toContain('RUN_IMAGE_MARK=yes');
  });
});

describe('Dockerfile and .dockerignore reading', () => {
  it('lists FROM images without stage names or flags', () => {
    expect(fromImages('FROM --platform=linux/amd64 fnts/node:20 AS build\nRUN x\nfrom build\nFROM node:20-slim as final\n'))
      .toEqual(['fnts/node:20', 'node:20-slim']);
  });

  it('matches like docker build: globs, directories, ** and ! exceptions', () => {
    const rules = parseDockerignore('*.md\n/dist/\n**/*.log\n!important.log\n# comment\n');
    expect(isIgnored(rules, 'README.md')).toBe(true);
    expect(isIgnored(rules, 'docs/README.md')).toBe(false);
    expect(isIgnored(rules, 'dist/func.js')).toBe(true);
    expect(isIgnored(rules, 'a/b/c.log')).toBe(true);
    expect(isIgnored(rules, 'important.log')).toBe(false);
    expect(isIgnored(rules, 'Dockerfile')).toBe(false);
  });
});
