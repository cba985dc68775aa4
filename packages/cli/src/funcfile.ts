import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
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
  triggers?: FuncTrigger[];
}

/**
 * Trigger types func.yaml may declare, each with its rule for `source`. Only `http` runs today; a new type (say
 * `stream`) is one more entry here, plus any fields of its own in `checkTrigger`.
 */
export const TRIGGER_TYPES = {
  http: {
    checkSource: (source: string) =>
      /^[^\s?#]+$/.test(source) ? undefined : 'must be a URL path such as /hello (no spaces, "?" or "#")',
  },
} as const satisfies Record<string, { checkSource: (source: string) => string | undefined }>;
export type TriggerType = keyof typeof TRIGGER_TYPES;

/** One entry of func.yaml `triggers:`; `fnts deploy` creates or updates it by name. */
export interface FuncTrigger {
  name: string;
  type: TriggerType;
  /** A URL path for http; deploy adds the leading `/` when it is missing. */
  source: string;
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
/** Turns a source offset into `path:line:col`. */
type Where = (offset: number | undefined) => string;
/** A rule that needs the YAML nodes, to point at the line of each nested problem. */
type NodeCheck = (node: unknown, where: Where) => string[];

const TRIGGER_NAME = /^[\p{L}\p{N}_-]+$/u;

function start(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

/** Checks the `triggers:` list: each entry a map with a valid name, a known type, and a source that type accepts. */
const checkTriggers: NodeCheck = (node, where) => {
  if (isScalar(node) && node.value === null) return []; // `triggers:` with nothing under it
  if (!isSeq(node)) return [`${where(start(node))}: "triggers" must be a list of {name, type, source}`];
  const problems: string[] = [];
  const seenNames = new Set<string>();
  const seenSources = new Set<string>();
  node.items.forEach((item, i) => {
    if (!isMap(item)) {
      problems.push(`${where(start(item))}: "triggers[${i}]" must be a map with name, type and source`);
      return;
    }
    const values = item.toJSON() as Record<string, unknown>;
    const pair = (key: string) => item.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    const report = (key: string, problem: string) => {
      const p = pair(key);
      problems.push(`${where(start(p?.value) ?? start(p?.key) ?? start(item))}: "triggers[${i}].${key}" ${problem}`);
    };
    const { name, type, source } = values;
    for (const key of ['name', 'type', 'source']) if (!pair(key)) report(key, 'is missing');

    if (pair('name')) {
      if (typeof name !== 'string' || !TRIGGER_NAME.test(name) || name.length > 255) {
        report('name', 'must be letters, digits, "_" or "-" (at most 255)');
      } else if (seenNames.has(name)) report('name', `repeats "${name}"; trigger names must be unique`);
      else seenNames.add(name);
    }

    const rule = typeof type === 'string' && Object.hasOwn(TRIGGER_TYPES, type) ? TRIGGER_TYPES[type as TriggerType] : undefined;
    if (pair('type') && !rule) report('type', `must be one of ${Object.keys(TRIGGER_TYPES).join(', ')}`);

    if (pair('source')) {
      const problem = typeof source === 'string' && source !== '' ? rule?.checkSource(source) : 'must be a non-empty string';
      if (problem) report('source', problem);
      else if (rule && typeof source === 'string') {
        // Sources are unique per app and type on the server; catch the repeat before deploy gets a 409.
        const key = `${String(type)} /${source.replace(/^\//, '')}`;
        if (seenSources.has(key)) report('source', `repeats the ${String(type)} source "${source}" of an earlier trigger`);
        seenSources.add(key);
      }
    }
  });
  return problems;
};

const intIn = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer from ${min} to ${max}`;

const FIELDS: Record<string, { required?: boolean; check?: Check; checkNode?: NodeCheck }> = {
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
  triggers: { checkNode: checkTriggers },
};

/** Parses and validates func.yaml text; reports every problem at once, each with its line and column. */
export function parseFuncFile(text: string, path: string): { func: FuncFile; doc: Document } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  const where: Where = (offset) => {
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
    if (rule.checkNode) problems.push(...rule.checkNode(node.value, where));
    const problem = rule.check?.(values[key]);
    if (problem) problems.push(`${where(start(node.value) ?? start(node.key))}: "${key}" ${problem}`);
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
