// Builds the console into dist/: one minified script and one stylesheet, named by content hash so the server can let
// browsers cache them for good, and index.html (never cached) that names them. Everything is served by the server.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const out = new URL('./dist/', import.meta.url);
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.tsx' },
  outdir: 'dist',
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((n) => n.endsWith('.js'));
const style = outputs.find((n) => n.endsWith('.css'));
if (!script || !style) throw new Error(`the console build made ${outputs.join(', ')}: a script and a stylesheet were expected`);
const html = readFileSync(new URL('./src/index.html', import.meta.url), 'utf8')
  .replace('%SCRIPT%', script)
  .replace('%STYLE%', style);
writeFileSync(new URL('./index.html', out), html);
const sizes = outputs.map((n) => `${n} ${readFileSync(new URL(n, out)).length} B`).join(', ');
console.log(`console: ${sizes}`);
