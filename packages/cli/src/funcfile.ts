import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Document, Scalar } from 'yaml';
import { didYouMean } from './closest-match.js';
import { CliError, cliErrors } from './errors.js';
import { yaml } from './yaml-module.js';
import {
  checkAnnotationsNode, checkConfigNode, checkStreamOptionsNode, configValues, intIn, nonEmptyString, pairOf, parseYaml,
  streamOptionsFor, unknownKeyProblems, type CrossCheck, type KeyPolicy, type Locate, type Schema,
} from './yaml-schema.js';

export const SCHEMA_VERSION = 20180708;
export const RUNTIMES = ['typescript', 'node', 'docker'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** func.yaml as the CLI uses it, after validation. Fn's keys that fnts ignores and `x-` keys stay in the document, untouched. */
export interface FuncFile {
  schema_version: number;
  name: string;
  version: string;
  runtime: Runtime;
  memory?: number;
  timeout?: number;
  idle_timeout?: number;
  /** fnts extension: the most containers the function may run at once. */
  max_containers?: number;
  /** fnts extension: calls in flight per container (functions built with the fnts FDK). */
  concurrency?: number;
  config?: Record<string, string>;
  annotations?: Record<string, unknown>;
  /** Default Content-Type of `fnts invoke` in this directory. */
  content_type?: string;
  /** The image the function runs on (the FROM line) for typescript and node; default `fnts/node:<major>`. */
  run_image?: string;
  triggers?: FuncTrigger[];
}

/** Embedded stream names (the server's rule), and the shape of a Kafka source (the server checks the details). */
const STREAM_NAME = /^[\p{L}\p{N}_.-]{1,255}$/u;
const KAFKA_SOURCE = /^kafka:\/\/[^\s/@?#]+:\d+(,[^\s/@?#]+:\d+)*\/[A-Za-z0-9._-]{1,249}$/;

/** Trigger types func.yaml may declare, each with its rule for `source`; `options` are for stream triggers only. */
export const TRIGGER_TYPES = {
  http: {
    checkSource: (source: string) =>
      /^[^\s?#]+$/.test(source) ? undefined : 'must be a URL path such as /hello (no spaces, "?" or "#")',
  },
  stream: {
    checkSource: (source: string) =>
      STREAM_NAME.test(source) || KAFKA_SOURCE.test(source)
        ? undefined
        : 'must be a stream name (letters, digits, "_", "-", "."; at most 255) or kafka://host:port[,host:port]/topic',
  },
} as const satisfies Record<string, { checkSource: (source: string) => string | undefined }>;
export type TriggerType = keyof typeof TRIGGER_TYPES;

/** One entry of func.yaml `triggers:`; `fnts deploy` creates or updates it by name. */
export interface FuncTrigger {
  name: string;
  type: TriggerType;
  /** A URL path for http (deploy adds the leading `/` when it is missing); a stream name or kafka:// URL for stream. */
  source: string;
  /** Stream triggers: the options to set (packages/server/README.md); the server fills in the rest. */
  options?: Record<string, unknown>;
}

/** A loaded func.yaml: its values and the YAML document, so edits keep comments and unknown keys. */
export interface LoadedFuncFile {
  path: string;
  func: FuncFile;
  doc: Document;
  /** The file's text, which the document's source ranges point into. */
  source: string;
}

/**
 * Keys of Fn's func.yaml (its CLI's FuncFileV20180708 and the older format) that fnts accepts and ignores: fnts
 * bundles on this machine (no build image, entrypoint or build commands), speaks only http-stream (format), and has
 * no route types, headers, cpus, tests, expected config or image signing. A directory made by `fn init` deploys
 * with them in place.
 */
export const FN_IGNORED_KEYS = [
  'build_image', 'entrypoint', 'cmd', 'build', 'expects', 'format', 'type', 'path', 'headers', 'cpus', 'tests', 'signing_details',
] as const;

const FUNC_KEYS: KeyPolicy = { ignored: FN_IGNORED_KEYS };

/** The keys of one `triggers:` entry. */
const TRIGGER_KEYS = ['name', 'type', 'source', 'options'];

const FILE_NAMES = ['func.yaml', 'func.yml'];
const SEMVER = /^\d+\.\d+\.\d+$/;
export const FN_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const TRIGGER_NAME = /^[\p{L}\p{N}_-]+$/u;

export function findFuncFile(dir: string): string | undefined {
  return FILE_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p));
}

/**
 * Checks the `triggers:` list: each entry a map with a valid name, a known type, a source that type accepts, and for
 * stream triggers known `options` of the right types.
 */
function checkTriggers(node: unknown, at: Locate): string[] {
  if (yaml().isScalar(node) && node.value === null) return []; // `triggers:` with nothing under it
  if (!yaml().isSeq(node)) return [`${at(node)}: "triggers" must be a list of {name, type, source}`];
  const problems: string[] = [];
  const seenNames = new Set<string>();
  const seenSources = new Set<string>();
  node.items.forEach((item, i) => {
    if (!yaml().isMap(item)) {
      problems.push(`${at(item)}: "triggers[${i}]" must be a map with name, type and source`);
      return;
    }
    const values = item.toJSON() as Record<string, unknown>;
    const report = (key: string, problem: string) => {
      const p = pairOf(item, key);
      problems.push(`${at(p?.value ?? p?.key, item)}: "triggers[${i}].${key}" ${problem}`);
    };
    const { name, type, source } = values;
    problems.push(...unknownKeyProblems(item, at, TRIGGER_KEYS, [], `triggers[${i}].`));
    for (const key of ['name', 'type', 'source']) if (!pairOf(item, key)) report(key, 'is missing');

    if (pairOf(item, 'name')) {
      if (typeof name !== 'string' || !TRIGGER_NAME.test(name) || name.length > 255) {
        report('name', 'must be letters, digits, "_" or "-" (at most 255)');
      } else if (seenNames.has(name)) report('name', `repeats "${name}"; trigger names must be unique`);
      else seenNames.add(name);
    }

    const rule = typeof type === 'string' && Object.hasOwn(TRIGGER_TYPES, type) ? TRIGGER_TYPES[type as TriggerType] : undefined;
    if (pairOf(item, 'type') && !rule) {
      report('type', `must be one of ${Object.keys(TRIGGER_TYPES).join(', ')}${didYouMean(type, Object.keys(TRIGGER_TYPES))}`);
    }

    if (pairOf(item, 'source')) {
      const problem = typeof source === 'string' && source !== '' ? rule?.checkSource(source) : 'must be a non-empty string';
      if (problem) report('source', problem);
      else if (rule && typeof source === 'string') {
        // The server keeps an http path once per app and a stream once per function; catch the repeat before a 409.
        const key = type === 'http' ? `http /${source.replace(/^\//, '')}` : `${String(type)} ${source}`;
        if (seenSources.has(key)) report('source', `repeats the ${String(type)} source "${source}" of an earlier trigger`);
        seenSources.add(key);
      }
    }

    const options = pairOf(item, 'options');
    if (options && type === 'stream') {
      problems.push(...checkStreamOptionsNode(options.value, at, `triggers[${i}].options`, streamOptionsFor(source)));
    } else if (options && rule) {
      problems.push(`${at(options.key)}: "triggers[${i}].options" are for stream triggers only; an ${String(type)} trigger has none`);
    }
  });
  return problems;
}

/** Names people give the runtimes that are too far from them for "did you mean" to find. */
const RUNTIME_ALIASES: Readonly<Record<string, Runtime>> = { js: 'node', javascript: 'node', ts: 'typescript' };

/** What is wrong with a `runtime:` value: the runtime it is a typo of, or how another language builds. */
function runtimeProblem(v: unknown): string | undefined {
  if (RUNTIMES.includes(v as Runtime)) return undefined;
  const alias = typeof v === 'string' ? RUNTIME_ALIASES[v.toLowerCase()] : undefined;
  const near = alias ? `; did you mean "${alias}"?` : didYouMean(v, RUNTIMES);
  return `must be one of ${RUNTIMES.join(', ')}${near || (typeof v === 'string' ? '; another language builds with runtime docker and your own Dockerfile' : '')}`;
}

/**
 * The one schema of func.yaml (CONTRACT §5.2 plus fnts's extensions). Any other key is an error with the nearest
 * known one, except Fn's keys in FN_IGNORED_KEYS and the user's own `x-` keys, which are kept and ignored.
 */
export const FUNC_SCHEMA: Schema = {
  schema_version: { required: true, check: (v) => (v === SCHEMA_VERSION ? undefined : `must be ${SCHEMA_VERSION}`) },
  name: {
    required: true,
    check: (v) => (typeof v === 'string' && FN_NAME.test(v) && v.length <= 255
      ? undefined : 'must be lowercase letters, digits, ".", "_" or "-" (at most 255)'),
  },
  version: { required: true, check: (v) => (typeof v === 'string' && SEMVER.test(v) ? undefined : 'must be a version like 0.0.1') },
  runtime: { required: true, check: runtimeProblem },
  memory: { check: intIn(1, 8192) },
  timeout: { check: intIn(1, 300) },
  idle_timeout: { check: intIn(1, 3600) },
  max_containers: { check: intIn(1, 10_000) },
  concurrency: { check: intIn(1, 1000) },
  content_type: { check: nonEmptyString },
  run_image: { check: nonEmptyString },
  config: { checkNode: checkConfigNode },
  annotations: { checkNode: checkAnnotationsNode },
  triggers: { checkNode: checkTriggers },
};

const crossChecks: CrossCheck = (values, at, pair) =>
  values.runtime === 'docker' && values.run_image !== undefined
    ? [`${at(pair('run_image')?.value)}: "run_image" is used by runtimes typescript and node; with runtime docker, the FROM line of your Dockerfile picks the image`]
    : [];

/** Parses and validates func.yaml text; reports every problem at once, each with its line and column. */
export function parseFuncFile(text: string, path: string): { func: FuncFile; doc: Document } {
  const { values, doc } = parseYaml(text, path, FUNC_SCHEMA, (problems) => cliErrors.funcfileInvalid(path, problems), crossChecks, FUNC_KEYS);
  const func = values as unknown as FuncFile;
  const config = yaml().isMap(doc.contents) ? configValues(pairOf(doc.contents, 'config')?.value) : undefined;
  if (config) func.config = config;
  else delete func.config; // `config:` with nothing under it
  if (func.annotations === null) delete func.annotations;
  if (func.triggers === null) delete func.triggers;
  for (const t of func.triggers ?? []) if (t.options === null) delete t.options; // `options:` with nothing under it
  return { func, doc };
}

export async function loadFuncFile(dir: string): Promise<LoadedFuncFile> {
  const path = findFuncFile(dir);
  if (!path) throw cliErrors.funcfileMissing(dir);
  const source = await readFile(path, 'utf8');
  const { func, doc } = parseFuncFile(source, path);
  return { path, func, doc, source };
}

/**
 * Writes one field back, keeping the rest of the file (comments, order, spacing, unknown keys) byte for byte: a
 * plain or quoted scalar is replaced where it stands, in its own quoting style; anything else goes through the
 * YAML document, which still keeps comments and unknown keys.
 */
export async function updateFuncFile(loaded: LoadedFuncFile, key: keyof FuncFile, value: unknown): Promise<void> {
  const { source } = loaded;
  const node = yaml().isMap(loaded.doc.contents) ? pairOf(loaded.doc.contents, key)?.value : undefined;
  const inPlace = yaml().isScalar(node) && node.range && ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'].includes(node.type ?? '')
    && (typeof value === 'string' || typeof value === 'number');
  let next: string;
  if (inPlace) {
    const [start, end] = node.range as [number, number, number];
    const formatted = yaml().stringify(value, { defaultStringType: node.type as Scalar.Type, defaultKeyType: null }).trimEnd();
    next = `${source.slice(0, start)}${formatted}${source.slice(end)}`;
  } else {
    loaded.doc.set(key, value);
    next = loaded.doc.toString();
  }
  await writeFile(loaded.path, next);
  loaded.doc = yaml().parseDocument(next, { keepSourceTokens: true });
  loaded.source = next;
  (loaded.func as unknown as Record<string, unknown>)[key] = value;
}

export type VersionPart = 'major' | 'minor' | 'patch';

/** The next version: patch 0.0.1 → 0.0.2, minor 0.1.9 → 0.2.0, major 1.4.2 → 2.0.0. */
export function bumpVersion(version: string, part: VersionPart = 'patch'): string {
  const parts = version.split('.').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new CliError('FNTS_ERR_FUNCFILE_INVALID', `cannot bump version "${version}"`, 'use a version like 0.0.1');
  }
  const [major, minor, patch] = parts as [number, number, number];
  if (part === 'major') return `${major + 1}.0.0`;
  if (part === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** The next patch version: 0.0.1 → 0.0.2. */
export function bumpPatch(version: string): string {
  return bumpVersion(version, 'patch');
}
