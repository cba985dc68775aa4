// Bundles the `fnts` bin from tsc's output (dist/main.js) into dist/bin/fnts.js, with commander and the CLI's own
// modules inlined: Node 20 spends more time finding and linking the ~40 small modules a command like `fnts list apps`
// loads than running it. Each command's module stays a separate chunk loaded when it runs (code splitting), and every
// other dependency (the server, dockerode, esbuild, ora, tar-fs, yaml, the Kafka client) stays an ordinary import.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const INLINED = new Set(['commander']);
const external = Object.keys(pkg.dependencies).filter((name) => !INLINED.has(name)).flatMap((name) => [name, `${name}/*`]);

// Chunk names carry content hashes: start empty so no stale chunk is left beside the new ones.
rmSync(new URL('../dist/bin', import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { fnts: 'dist/main.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // commander is CommonJS: its require() of Node's built-ins needs a real require in these ES modules.
  banner: { js: "import { createRequire as __fntsCreateRequire } from 'node:module'; const require = __fntsCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
});
