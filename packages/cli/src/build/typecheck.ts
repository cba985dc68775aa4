import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type TS from 'typescript';
import { cliErrors } from '../errors.js';
import type { FuncFile } from '../funcfile.js';
import { findEntry } from './bundle.js';

/**
 * `fnts build` and `fnts deploy` type-check a TypeScript function before bundling it (esbuild strips types without
 * checking them), with the compiler this CLI depends on, so a function checks the same with or without its own
 * `npm install`: the FDK and @types/node fall back to the CLI's copies when the function's node_modules has none.
 */

/** "No inputs were found in config file": not so, as the entry is always checked. */
const NO_INPUTS = 18003;

/** How many errors the failure lists; the rest are counted. */
const SHOWN_ERRORS = 20;

export interface TypecheckResult {
  /** The TypeScript files the check read that belong to the function (not its dependencies). */
  files: number;
}

/** Whether `fnts build` type-checks this function: runtime typescript with a TypeScript entry file. */
export function isTypeChecked(dir: string, func: FuncFile): boolean {
  return func.runtime === 'typescript' && /\.[cm]?ts$/.test(findEntry(dir, 'typescript'));
}

/** The compiler is ~9 MB of JavaScript: loaded only when a build runs the check. */
async function loadTypescript(): Promise<typeof TS> {
  return (await import('typescript')).default;
}

/** The CLI's own FDK's type declarations: `index.d.ts` beside the `index.js` Node resolves it to. */
function cliFdkTypes(): string {
  // require.resolve, not import.meta.resolve: the bin is a CommonJS bundle (see bundledFdk in bundle.ts).
  return createRequire(import.meta.url).resolve('@fnts/fdk').replace(/\.js$/, '.d.ts');
}

/** The compiler options and files: the function's tsconfig.json, or the settings `fnts init` writes when it has none. */
function readProject(ts: typeof TS, dir: string, entry: string): { options: TS.CompilerOptions; rootNames: string[]; errors: TS.Diagnostic[] } {
  const configFile = join(dir, 'tsconfig.json');
  if (!existsSync(configFile)) {
    return {
      options: {
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2023.d.ts'],
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        skipLibCheck: true,
        types: ['node'],
      },
      rootNames: [entry],
      errors: [],
    };
  }
  const errors: TS.Diagnostic[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => void errors.push(d),
  });
  if (!parsed) return { options: {}, rootNames: [entry], errors };
  // The entry is what gets deployed: it is checked even when the tsconfig's files or include leave it out.
  const rootNames = parsed.fileNames.includes(entry) ? parsed.fileNames : [...parsed.fileNames, entry];
  return { options: parsed.options, rootNames, errors: [...errors, ...parsed.errors.filter((d) => d.code !== NO_INPUTS)] };
}

/**
 * Points what the function's own node_modules lacks at the CLI's copies: the FDK (a function that was never
 * `npm install`ed, or one of the repo's examples) and @types/node (a fresh `fnts init` directory).
 */
function withFallbacks(ts: typeof TS, dir: string, options: TS.CompilerOptions, host: TS.ModuleResolutionHost): TS.CompilerOptions {
  const probe = join(dir, '__fnts_typecheck__.ts');
  const resolved = { ...options };
  if (!ts.resolveModuleName('@fnts/fdk', probe, options, host).resolvedModule) {
    resolved.paths = { ...options.paths, '@fnts/fdk': [cliFdkTypes()] };
  }
  if (!ts.resolveTypeReferenceDirective('node', probe, options, host).resolvedTypeReferenceDirective) {
    const cliNodeTypes = dirname(createRequire(import.meta.url).resolve('@types/node/package.json'));
    const own = join(dir, 'node_modules', '@types');
    resolved.typeRoots = [...(options.typeRoots ?? (existsSync(own) ? [own] : [])), dirname(cliNodeTypes)];
    // Without a `types` list every package in the CLI's @types directory would be loaded, not only node.
    resolved.types = options.types ?? ['node'];
  }
  return resolved;
}

/** One diagnostic as `file:line:col - error TSnnnn: message`, the file relative to the function directory. */
function formatDiagnostic(ts: typeof TS, d: TS.Diagnostic, dir: string): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  if (!d.file || d.start === undefined) return `error TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const rel = relative(dir, d.file.fileName);
  const file = rel.startsWith('..') || isAbsolute(rel) ? d.file.fileName : rel;
  return `${file}:${line + 1}:${character + 1} - error TS${d.code}: ${message}`;
}

/** Type-checks the function in `dir`; throws FNTS_ERR_TYPECHECK listing its errors. */
export async function typecheckFunction(dir: string): Promise<TypecheckResult> {
  const ts = await loadTypescript();
  const entry = findEntry(dir, 'typescript');
  const project = readProject(ts, dir, entry);
  // Resolution starts from the function directory, wherever the CLI was started.
  const resolutionHost: TS.ModuleResolutionHost = { ...ts.sys, getCurrentDirectory: () => dir };
  const options: TS.CompilerOptions = {
    ...withFallbacks(ts, dir, project.options, resolutionHost),
    // The dependencies' declarations are theirs to check: checking them too takes seconds more on every build.
    skipLibCheck: project.options.skipLibCheck ?? true,
    noEmit: true,
    // Emit settings that contradict noEmit would be reported as errors of the user's tsconfig.
    composite: false,
    incremental: false,
    declaration: false,
    emitDeclarationOnly: false,
  };
  const host = ts.createCompilerHost(options);
  host.getCurrentDirectory = () => dir;
  const program = ts.createProgram({ rootNames: project.rootNames, options, host });
  const errors = [...project.errors, ...ts.getPreEmitDiagnostics(program)].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const lines = errors.slice(0, SHOWN_ERRORS).map((d) => formatDiagnostic(ts, d, dir));
    if (errors.length > SHOWN_ERRORS) lines.push(`... and ${errors.length - SHOWN_ERRORS} more`);
    throw cliErrors.typecheck(dir, errors.length, lines);
  }
  const own = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/') && !relative(dir, f.fileName).startsWith('..'));
  return { files: own.length };
}

