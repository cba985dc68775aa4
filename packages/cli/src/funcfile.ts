import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { CliError, cliErrors } from './errors.js';

export const SCHEMA_VERSION = 20180708;
export const RUNTIMES = ['typescript', 'node', 'docker'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** func.yaml as the CLI uses it, after validation. Unknown keys stay in the document, untouched. */
export interface FuncFile {
  schema_version: number;
  name: string;
  version: string;
  runtime: Runtime;
  memory?: number;
  timeout?: number;
  idle_timeout?: number;
  config?: Record<string, string>;
  content_type?: string;
}

/** A loaded func.yaml: its values and the YAML document, so edits keep comments and unknown keys. */
export interface LoadedFuncFile {
  path: string;
  func: FuncFile;
  doc: Document;
}

const FILE_NAMES = ['func.yaml', 'func.yml'];
const SEMVER = /^\d+\.\d+\.\d+$/;
const NAME = /^[a-z0-9][a-z0-9_.-]*$/;

export function findFuncFile(dir: string): string | undefined {
  return FILE_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p));
}

type Check = (value: unknown) => string | undefined;
const intIn = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer from ${min} to ${max}`;

const FIELDS: Record<string, { required?: boolean; check: Check }> = {
  schema_version: { required: true, check: (v) => (v === SCHEMA_VERSION ? undefined : `must be ${SCHEMA_VERSION}`) },
  name: {
    required: true,
    check: (v) => (typeof v === 'string' && NAME.test(v) && v.length <= 255
      ? undefined : 'must be lowercase letters, digits, ".", "_" or "-" (at most 255)'),
  },
  version: { required: true, check: (v) => (typeof v === 'string' && SEMVER.test(v) ? undefined : 'must be a version like 0.0.1') },
  runtime: {
    required: true,
    check: (v) => (RUNTIMES.includes(v as Runtime) ? undefined : `must be one of ${RUNTIMES.join(', ')}`),
  },
  memory: { check: intIn(1, 8192) },
  timeout: { check: intIn(1, 300) },
  idle_timeout: { check: intIn(1, 3600) },
  content_type: { check: (v) => (typeof v === 'string' ? undefined : 'must be a string') },
  config: {
    check: (v) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
        ? undefined : 'must be a map of string keys to string values (quote numbers)',
  },
};

/** Parses and validates func.yaml text; reports every problem at once, each with its line and column. */
export function parseFuncFile(text: string, path: string): { func: FuncFile; doc: Document } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return `${path}`;
    const { line, col } = lineCounter.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  const problems = doc.errors.map((e) => `${where(e.pos[0])}: ${e.message.split('\n')[0]}`);
  if (problems.length > 0) throw cliErrors.funcfileInvalid(path, problems);
  if (!isMap(doc.contents)) throw cliErrors.funcfileInvalid(path, [`${where(0)}: the file must be a YAML map of settings`]);
  const values = doc.toJS() as Record<string, unknown>;
  for (const [key, rule] of Object.entries(FIELDS)) {
    const node = doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    if (!node) {
      if (rule.required) problems.push(`${where(0)}: missing required field "${key}"`);
      continue;
    }
    const problem = rule.check(values[key]);
    const range = (node.value as { range?: [number, number, number] } | null)?.range ??
      (node.key as { range?: [number, number, number] }).range;
    if (problem) problems.push(`${where(range?.[0])}: "${key}" ${problem}`);
  }
  if (problems.length > 0) throw cliErrors.funcfileInvalid(path, problems);
  return { func: values as unknown as FuncFile, doc };
}

export async function loadFuncFile(dir: string): Promise<LoadedFuncFile> {
  const path = findFuncFile(dir);
  if (!path) throw cliErrors.funcfileMissing(dir);
  const { func, doc } = parseFuncFile(await readFile(path, 'utf8'), path);
  return { path, func, doc };
}

/** Writes one field back, keeping the rest of the file (comments, order, unknown keys) as it was. */
export async function updateFuncFile(loaded: LoadedFuncFile, key: keyof FuncFile, value: unknown): Promise<void> {
  loaded.doc.set(key, value);
  await writeFile(loaded.path, loaded.doc.toString());
  (loaded.func as unknown as Record<string, unknown>)[key] = value;
}

/** The next patch version: 0.0.1 → 0.0.2. */
export function bumpPatch(version: string): string {
  const parts = version.split('.').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n))) {
    throw new CliError('FNTS_ERR_FUNCFILE_INVALID', `cannot bump version "${version}"`, 'use a version like 0.0.1');
  }
  const [major, minor, patch] = parts as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}
