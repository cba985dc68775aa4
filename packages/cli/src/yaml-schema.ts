import type { Document, Pair, YAMLMap } from 'yaml';
import { didYouMean } from './closest-match.js';
import type { CliError } from './errors.js';
import { yaml } from './yaml-module.js';

/**
 * One small schema language for the CLI's YAML files (func.yaml, app.yaml, context files): each top-level key has a
 * rule, every problem is collected (never just the first), and each names its `file:line:column`.
 */

/** Where a YAML node starts, as `file:line:column`; a missing node gives the fallback's place, or `file:1:1`. */
export type Locate = (node: unknown, fallback?: unknown) => string;

export interface Rule {
  required?: boolean;
  /** Checks the plain value; returns the problem (the text after `"key"`) or undefined. */
  check?: Check;
  /** Checks the YAML node itself, to point at the line of a problem inside it; returns located problems. */
  checkNode?: (node: unknown, at: Locate, key: string) => string[];
}

export type Schema = Readonly<Record<string, Rule>>;

/** A rule across fields, run once every field passed its own rules. */
export type CrossCheck = (values: Record<string, unknown>, at: Locate, pair: (key: string) => Pair | undefined) => string[];

/**
 * Which keys a file may have besides its schema's: keys another tool writes there that this CLI leaves alone on
 * purpose (Fn's `build_image`, say), and keys of the user's own, which start with `x-`. Any other key is a mistake,
 * reported at its line with the nearest known key.
 */
export interface KeyPolicy {
  ignored: readonly string[];
}

/** The prefix of keys a user keeps in a file for their own tools; the CLI ignores them. */
export const OWN_KEY_PREFIX = 'x-';

export interface ParsedYaml {
  values: Record<string, unknown>;
  doc: Document;
}

function start(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

/** The pair for `key` in a YAML map node. */
export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
}

/**
 * Problems about keys of `map` that `known` does not list (nor `ignored`, nor the user's own `x-` keys), each at its
 * key's line with the nearest known key. `where` prefixes nested keys (`triggers[0].`).
 */
export function unknownKeyProblems(map: YAMLMap, at: Locate, known: readonly string[], ignored: readonly string[] = [], where = ''): string[] {
  const problems: string[] = [];
  for (const pair of map.items) {
    const key = yaml().isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key === 'string' && (known.includes(key) || ignored.includes(key) || key.startsWith(OWN_KEY_PREFIX))) continue;
    const name = typeof key === 'string' ? key : String(key);
    const suggestion = didYouMean(key, [...known, ...ignored]);
    problems.push(`${at(pair.key, map)}: unknown key "${where}${name}"${suggestion || `; known keys: ${known.join(', ')} (keys of your own start with "${OWN_KEY_PREFIX}")`}`);
  }
  return problems;
}

/**
 * A syntax error as the yaml library reports it, made to point: its message without the library's trailing
 * "at line L, column C:" (the location leads the line instead), then the line before for context (an error found
 * at the end of the file sits on an empty line), the offending line, and a caret under the column. Tabs show as
 * `→` so "Tabs are not allowed" can be seen.
 */
function syntaxProblem(place: string, message: string, text: string, line: number, col: number): string {
  const first = (message.split('\n')[0] ?? '').replace(/\s+at line \d+, column \d+:?\s*$/, '');
  const lines = text.split(/\r?\n/);
  if (lines[line - 1] === undefined) return `${place}: ${first}`;
  const width = String(line).length;
  const show = (n: number) => `    ${String(n).padStart(width)} | ${(lines[n - 1] ?? '').replace(/\t/g, '→')}`.trimEnd();
  return [
    `${place}: ${first}`,
    ...(line > 1 ? [show(line - 1)] : []),
    show(line),
    `    ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`,
  ].join('\n');
}

/** The `file:line:column` a located problem starts with, as numbers for sorting; unlocated ones sort first. */
function position(problem: string, path: string): [number, number] {
  const m = problem.startsWith(`${path}:`) ? /^:(\d+):(\d+):/.exec(problem.slice(path.length)) : null;
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * Parses YAML text and checks it against a schema. Syntax errors are reported first (all of them, each with its
 * source line); otherwise every rule runs, and with a key policy every unknown key is a problem too, and all are
 * reported together in file order through `invalid`.
 */
export function parseYaml(
  text: string,
  path: string,
  schema: Schema,
  invalid: (problems: string[]) => CliError,
  cross?: CrossCheck,
  keys?: KeyPolicy,
): ParsedYaml {
  const lineCounter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter, keepSourceTokens: true });
  const place = (offset: number | undefined): string => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `${path}:${line}:${col}`;
  };
  const at: Locate = (node, fallback) => place(start(node) ?? start(fallback));
  const problems = doc.errors.map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return syntaxProblem(place(e.pos[0]), e.message, text, line, col);
  });
  if (problems.length > 0) throw invalid(problems);
  const root = doc.contents;
  if (!yaml().isMap(root)) throw invalid([`${place(0)}: the file must be a YAML map of settings`]);
  const values = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (keys) problems.push(...unknownKeyProblems(root, at, Object.keys(schema), keys.ignored));
  for (const [key, rule] of Object.entries(schema)) {
    const pair = pairOf(root, key);
    if (!pair) {
      if (rule.required) problems.push(`${place(0)}: missing required field "${key}"`);
      continue;
    }
    if (rule.checkNode) problems.push(...rule.checkNode(pair.value, at, key));
    const problem = rule.check?.(values[key]);
    if (problem) problems.push(`${at(pair.value, pair.key)}: "${key}" ${problem}`);
  }
  if (problems.length === 0 && cross) problems.push(...cross(values, at, (key) => pairOf(root, key)));
  if (problems.length > 0) {
    const ordered = problems.map((p, i) => ({ p, i, pos: position(p, path) }));
    ordered.sort((a, b) => a.pos[0] - b.pos[0] || a.pos[1] - b.pos[1] || a.i - b.i);
    throw invalid(ordered.map((o) => o.p));
  }
  return { values, doc };
}

// Rules shared by the files.

export type Check = (value: unknown) => string | undefined;

export const intIn = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer from ${min} to ${max}`;

export const nonEmptyString: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'must be a non-empty string');

/**
 * A `config:` map, Fn-style: string keys, and scalar values that become their text (`PORT: 8080` is "8080", as in
 * Fn's CLI). An empty value (`KEY:`) is a problem, pointed at its line.
 */
export const checkConfigNode: NonNullable<Rule['checkNode']> = (node, at, key) => {
  if (yaml().isScalar(node) && node.value === null) return []; // `config:` with nothing under it
  if (!yaml().isMap(node)) return [`${at(node)}: "${key}" must be a map of KEY: value`];
  const problems: string[] = [];
  for (const pair of node.items) {
    const k = yaml().isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof k !== 'string' || k === '') {
      problems.push(`${at(pair.key)}: "${key}" keys must be non-empty strings`);
      continue;
    }
    if (!yaml().isScalar(pair.value) || pair.value.value === null) {
      // An empty value (`KEY:`) is pointed at by its key; a map or list by where it starts.
      const node = yaml().isScalar(pair.value) ? pair.key : pair.value;
      problems.push(`${at(node, pair.key)}: "${key}.${k}" must be a string, number or boolean`);
    }
  }
  return problems;
};

/** Reads a validated `config:` node's values as text: a number keeps the digits as written (`1.50` stays "1.50"). */
export function configValues(node: unknown): Record<string, string> | undefined {
  if (!yaml().isMap(node)) return undefined;
  const out: Record<string, string> = {};
  for (const pair of node.items) {
    if (!yaml().isScalar(pair.key) || !yaml().isScalar(pair.value)) continue;
    const source = (pair.value.srcToken as { source?: string } | undefined)?.source;
    const value = pair.value.value;
    out[String(pair.key.value)] = typeof value === 'string' ? value : source ?? String(value);
  }
  return out;
}

const ANNOTATION_KEY = /^[!-~]+$/;

/** `annotations:`, with the server's rules (CONTRACT §4.5), so deploy does not fail halfway on a 400. */
export const checkAnnotationsNode: NonNullable<Rule['checkNode']> = (node, at, key) => {
  if (yaml().isScalar(node) && node.value === null) return [];
  if (!yaml().isMap(node)) return [`${at(node)}: "${key}" must be a map of KEY: value`];
  const problems: string[] = [];
  if (node.items.length > 100) problems.push(`${at(node)}: "${key}" may have at most 100 keys`);
  for (const pair of node.items) {
    const k = yaml().isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof k !== 'string' || !ANNOTATION_KEY.test(k) || Buffer.byteLength(k) > 128) {
      problems.push(`${at(pair.key)}: "${key}" keys must be printable ASCII without spaces, at most 128 bytes`);
      continue;
    }
    const value = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
    if (value === null || value === '' || typeof value === 'boolean') {
      problems.push(`${at(pair.value, pair.key)}: "${key}.${k}" must be a non-empty string, a number, a map or a list`);
    } else if (Buffer.byteLength(JSON.stringify(value)) > 512) {
      problems.push(`${at(pair.value, pair.key)}: "${key}.${k}" is longer than 512 bytes as JSON`);
    }
  }
  return problems;
};

// Stream trigger options (packages/server/README.md "Stream trigger options"): names and value types, checked here so
// a typo is a located error before deploy builds anything. Ranges beyond the obvious are the server's to check.

const wholeAtLeast = (min: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min ? undefined : `must be a whole number${min > 0 ? ` of at least ${min}` : ' (0 or more)'}`;
const trueOrFalse: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
/** One of a fixed set of words; a near miss names the word it is near. */
export const oneOf = (...values: string[]): Check => (v) =>
  (values.includes(v as string) ? undefined : `must be one of ${values.join(', ')}${didYouMean(v, values)}`);
const STREAM_NAME = /^[\p{L}\p{N}_.-]{1,255}$/u;

const startPosition: Check = (v) => {
  const problem = 'must be earliest, latest, {timestamp: <ms>} or {offsets: {<partition>: <offset>}}';
  if (v === 'earliest' || v === 'latest') return undefined;
  if (typeof v === 'string') return `${problem}${didYouMean(v, ['earliest', 'latest'])}`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return problem;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return problem;
  if (keys[0] !== 'timestamp' && keys[0] !== 'offsets') return `${problem}${didYouMean(keys[0], ['timestamp', 'offsets'])}`;
  if (keys[0] === 'timestamp') return Number.isInteger(o.timestamp) && (o.timestamp as number) >= 0 ? undefined : `${problem}; the timestamp is milliseconds since 1970`;
  const offsets = o.offsets;
  if (keys[0] !== 'offsets' || offsets === null || typeof offsets !== 'object' || Array.isArray(offsets)) return problem;
  const bad = Object.entries(offsets).some(([p, n]) => !/^\d+$/.test(p) || !Number.isInteger(n) || (n as number) < 0);
  return bad ? `${problem}; partitions and offsets are whole numbers` : undefined;
};

/** The options every stream trigger has, embedded or Kafka. */
export const STREAM_TRIGGER_OPTIONS: Readonly<Record<string, Check>> = {
  batch_size: intIn(1, 10_000),
  max_batch_bytes: wholeAtLeast(1),
  max_wait_ms: wholeAtLeast(0),
  start_position: startPosition,
  max_attempts: wholeAtLeast(1),
  backoff_initial_ms: wholeAtLeast(1),
  backoff_max_ms: wholeAtLeast(1),
  bisect_on_error: trueOrFalse,
  dead_letter_stream: (v) => (typeof v === 'string' && STREAM_NAME.test(v) ? undefined : 'must be a stream name (letters, digits, "_", "-", ".")'),
  max_record_age_ms: wholeAtLeast(0),
  max_concurrency: wholeAtLeast(1),
  value_encoding: oneOf('base64', 'utf8', 'json'),
  paused: trueOrFalse,
  filter: (v) => {
    const conditions = ['key', 'key_prefix', 'headers', 'value'];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `must be a map of conditions (${conditions.join(', ')})`;
    const unknown = Object.keys(v).filter((k) => !conditions.includes(k));
    const hint = unknown.length === 1 ? didYouMean(unknown[0], conditions) : '';
    return unknown.length > 0 ? `has unknown conditions ${unknown.join(', ')} (known: ${conditions.join(', ')})${hint}` : undefined;
  },
};

/** The options only `kafka://` sources have; a Kafka trigger dead-letters to a topic, not to an embedded stream. */
export const KAFKA_TRIGGER_OPTIONS: Readonly<Record<string, Check>> = {
  group_id: nonEmptyString,
  dead_letter_topic: nonEmptyString,
  max_buffered_bytes: wholeAtLeast(1),
  drain_timeout_ms: wholeAtLeast(0),
};

/** The options a stream trigger reading `source` accepts. */
export function streamOptionsFor(source: unknown): Readonly<Record<string, Check>> {
  if (typeof source !== 'string' || !source.startsWith('kafka://')) return STREAM_TRIGGER_OPTIONS;
  const { dead_letter_stream: _embeddedOnly, ...shared } = STREAM_TRIGGER_OPTIONS;
  return { ...shared, ...KAFKA_TRIGGER_OPTIONS };
}

/**
 * A stream trigger's `options:` map: each key a known option with a value of its type, every problem pointed at its
 * own line. `where` names the node in messages (`triggers[0].options`).
 */
export function checkStreamOptionsNode(node: unknown, at: Locate, where: string, known: Readonly<Record<string, Check>>): string[] {
  if (yaml().isScalar(node) && node.value === null) return []; // `options:` with nothing under it
  if (!yaml().isMap(node)) return [`${at(node)}: "${where}" must be a map of option: value`];
  const problems: string[] = [];
  for (const pair of node.items) {
    const k = yaml().isScalar(pair.key) ? pair.key.value : undefined;
    const check = typeof k === 'string' && Object.hasOwn(known, k) ? known[k] : undefined;
    if (!check) {
      const near = k === 'dead_letter_stream' ? '' : didYouMean(k, Object.keys(known));
      problems.push(`${at(pair.key)}: "${where}.${String(k)}" is not a stream trigger option${k === 'dead_letter_stream' ? ' of a kafka:// source' : ''}${near || `; known: ${Object.keys(known).join(', ')}`}`);
      continue;
    }
    const value = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
    const problem = check(value);
    if (problem) problems.push(`${at(pair.value, pair.key)}: "${where}.${k as string}" ${problem}`);
  }
  return problems;
}
