// The README's examples must compile against the real API: each ```ts block is
// type-checked as its own module, with `@fnts/fdk` mapped to src/index.ts. Type-level
// checks of the generics ride along, since they need the same compiler run.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const TEST_DIR = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = dirname(TEST_DIR);

function readmeBlocks(): string[] {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

// Each line must fail to compile where marked; the rest must compile.
const TYPE_CHECKS = `
import { handle, handleBatch, type BatchRecord } from '@fnts/fdk';
handle<{ a: number }, string>((input) => String(input.a));
// @ts-expect-error the result must be an Out
handle<{ a: number }, string>((input) => input.a);
// @ts-expect-error the input is an In
handle<{ a: number }, string>((input) => input.b);
handleBatch((records) => { const v: Buffer | null = records[0]?.value ?? null; const k: Buffer | null = records[0]?.key ?? null; void v; void k; });
handleBatch<string>((records) => { const k: string | null = records[0]?.key ?? null; void k; });
handleBatch<{ n: number }>((records) => { const k: string | null = records[0]?.key ?? null; void k; });
// @ts-expect-error a Buffer key under base64 is not a string
handleBatch((records) => { const k: string | null = records[0]?.key ?? null; void k; });
handleBatch((records, ctx) => { ctx.fail(records[0]!, 'x'); ctx.fail(3, new Error('y')); return { failures: [{ offset: 1, error: 'z' }] }; });
// @ts-expect-error failures carry offsets
handleBatch(() => ({ failures: [{ record: 1, error: 'z' }] }));
const anyRecord: BatchRecord<unknown> | undefined = undefined; void anyRecord;
`;

function typeCheck(sources: Map<string, string>): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(TEST_DIR, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('cannot read test/tsconfig.json');
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    paths: { '@fnts/fdk': [join(PACKAGE_DIR, 'src/index.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => sources.has(name) || fileExists.call(host, name);
  host.readFile = (name) => sources.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = sources.get(name);
    return text === undefined ? getSourceFile.call(host, name, language, ...rest) : ts.createSourceFile(name, text, language);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined
      ? `${diagnostic.file.fileName.slice(TEST_DIR.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}: `
      : '';
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  });
}

describe('README', () => {
  it('has examples, and every one of them compiles; the generics reject what they should', { timeout: 60_000 }, () => {
    const blocks = readmeBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    // Virtual files next to the tests, so they are ES modules like the package.
    const sources = new Map(blocks.map((block, index) => [join(TEST_DIR, `readme-example-${index + 1}.ts`), block]));
    sources.set(join(TEST_DIR, 'readme-type-checks.ts'), TYPE_CHECKS);
    expect(typeCheck(sources)).toEqual([]);
  });
});
