// Lazy source maps: a bundled function's stack traces name its TypeScript lines without Node's --enable-source-maps.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SOURCE_MAPS = resolve(dirname(fileURLToPath(import.meta.url)), '../src/source-maps.ts');

// The throw is on line 5 of entry.ts, column 9.
const ENTRY = `import { installLazySourceMaps } from ${JSON.stringify(SOURCE_MAPS)};

installLazySourceMaps(import.meta.url);
function boom(): never {
  throw new Error('mapped');
}
try {
  boom();
} catch (error) {
  console.log((error as Error).stack);
}
`;

let dir = '';
let bundle = '';

async function stackOf(args: string[]): Promise<string> {
  // No NODE_OPTIONS from the test runner: the child is a plain node, as in a function container.
  const { stdout } = await run(process.execPath, [...args, bundle], { env: { PATH: process.env.PATH ?? '' } });
  return stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fnts-fdk-maps-'));
  await writeFile(join(dir, 'entry.ts'), ENTRY);
  bundle = join(dir, 'func.mjs');
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'esm', sourcemap: 'linked', logLevel: 'silent' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('lazy source maps', () => {
  it('maps the bundle\'s frames to the TypeScript source when a stack is formatted', async () => {
    const stack = await stackOf([]);
    expect(stack).toMatch(/^Error: mapped\n {4}at boom \(/);
    expect(stack).toContain(`${join(dir, 'entry.ts')}:5:9)`);
    expect(stack).not.toContain('func.mjs:');
  });

  it('leaves the mapping to Node under --enable-source-maps, with the same result', async () => {
    expect(await stackOf(['--enable-source-maps'])).toContain(`${join(dir, 'entry.ts')}:5:9)`);
  });

  it('prints the bundle\'s own positions when the map is missing', async () => {
    await unlink(`${bundle}.map`);
    const stack = await stackOf([]);
    expect(stack).toMatch(/^Error: mapped\n {4}at boom \(file:\/\/.*func\.mjs:\d+:\d+\)/);
  });
});
