// Packs the FDK and the @fnts/api package it imports at run time into dist/packs, with an index (packs.json), so
// `fnts init` can copy them into a new function and its package.json can name them as `file:` dependencies: npm
// then installs the function's own packages with no registry holding @fnts/*. Run after `tsc -b` (it packs dist/).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cliRoot = fileURLToPath(new URL('..', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/packs', import.meta.url));
/** The packages a function needs, as directories beside the CLI's in the repo. */
const PACKAGES = ['../fdk', '../api'];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packed = JSON.parse(execFileSync(npm, ['pack', ...PACKAGES, '--pack-destination', outDir, '--json', '--silent'], {
  cwd: cliRoot,
  encoding: 'utf8',
}));
const index = Object.fromEntries(packed.map((p) => [p.name, { version: p.version, file: p.filename }]));
writeFileSync(`${outDir}/packs.json`, `${JSON.stringify(index, null, 2)}\n`);
