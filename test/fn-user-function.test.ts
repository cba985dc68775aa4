// An Fn user brings a function: the directory `fn init --runtime node` makes (func.js on @fnproject/fdk, package.json,
// func.yaml naming Fn's build and run images) deploys with `fnts deploy` and no edits, through the real CLI and
// server processes and Docker. Offline, Fn's images are not on the engine and no registry answers: the CLI builds on
// fnts's own base instead and says so in one line.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyPackageTree, docker, runCli, useServerProcess } from './support/harness.js';


/** The files `fn init --runtime node` writes (Fn CLI 0.6, Node 20 images), byte for byte where it matters. */
const FN_INIT_NODE = {
  'func.yaml': [
    'schema_version: 20180708',
    'name: fnhello',
    'version: 0.0.1',
    'runtime: node',
    'build_image: fnproject/node:20-dev',
    'run_image: fnproject/node:20',
    'entrypoint: node func.js',
    '',
  ].join('\n'),
  'func.js': [
    "const fdk=require('@fnproject/fdk');",
    '',
    'fdk.handle(function(input){',
    "  let name = 'World';",
    '  if (input.name) {',
    '    name = input.name;',
    '  }',
    "  console.log('\\nInside Node Hello World function')",
    "  return {'message': 'Hello ' + name}",
    '})',
    '',
  ].join('\n'),
  'package.json': `${JSON.stringify({
    name: 'fnhello', version: '1.0.0', description: 'example function', main: 'func.js', author: '', license: 'Apache-2.0',
    dependencies: { '@fnproject/fdk': '>=0.0.76' },
  }, null, '\t')}\n`,
};

/** Whether the engine holds an image. */
async function onEngine(image: string): Promise<boolean> {
  return docker.getImage(image).inspect().then(() => true, () => false);
}

describe("an Fn user's node function, as `fn init --runtime node` made it", () => {
  const ctx = useServerProcess();

  it('deploys with no edits and answers as it does on Fn', async () => {
    const fnDir = join(ctx.dir, 'fnhello');
    await mkdir(join(fnDir, 'node_modules'), { recursive: true });
    for (const [file, text] of Object.entries(FN_INIT_NODE)) await writeFile(join(fnDir, file), text);
    await copyPackageTree('@fnproject/fdk', join(fnDir, 'node_modules'));
    const fnImageBefore = await onEngine('fnproject/node:20');

    const deploy = await runCli(['deploy', '--app', 'fnusers', '--create-app'], { cwd: fnDir, env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain('Deployed fnhello 0.0.2 to app fnusers: image fnusers/fnhello:0.0.2');
    const note = /^Note: fnproject\/node:20 \(Fn's Node image\) is not on this engine and no registry is reachable: building on fnts\/node:\d+ .*instead$/m;
    if (!fnImageBefore && !(await onEngine('fnproject/node:20'))) {
      // Offline (no registry answered the pull): fnts's base stood in, and one line said so.
      expect(deploy.stderr.match(new RegExp(note.source, 'gm'))).toHaveLength(1);
      const built = await docker.getImage('fnusers/fnhello:0.0.2').inspect();
      const base = await docker.getImage(`fnts/node:${process.versions.node.split('.')[0]}`).inspect();
      const baseLayers = base.RootFS.Layers ?? [];
      expect(baseLayers.length).toBeGreaterThan(0);
      expect(built.RootFS.Layers?.slice(0, baseLayers.length)).toEqual(baseLayers);
    } else {
      expect(deploy.stderr).not.toMatch(note);
    }
    // Deploy bumped only the version; Fn's lines stay as they were.
    expect(await readFile(join(fnDir, 'func.yaml'), 'utf8')).toBe(FN_INIT_NODE['func.yaml'].replace('version: 0.0.1', 'version: 0.0.2'));

    const invoke = await runCli(['invoke', 'fnusers', 'fnhello', '--content-type', 'application/json'], {
      cwd: fnDir, env: ctx.env, input: '{"name":"Fn user"}',
    });
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ message: 'Hello Fn user' });

    const plain = await runCli(['invoke', 'fnusers', 'fnhello', '--content-type', 'application/json'], { cwd: fnDir, env: ctx.env, input: '{}' });
    expect(JSON.parse(plain.stdout)).toEqual({ message: 'Hello World' });
  });
});
