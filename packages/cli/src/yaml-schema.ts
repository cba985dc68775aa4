import { isMap, isScalar, LineCounter, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import type { CliError } from './errors.js';

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
 * Parses YAML text and checks it against a schema. Syntax errors are reported first (all of them); otherwise every
 * rule runs and all problems are reported together through `invalid`.
 */
export function parseYaml(
  text: string,
  path: string,
  schema: Schema,
  invalid: (problems: string[]) => CliError,
  cross?: CrossCheck,
): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  const place = (offset: number | undefined): string => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `${path}:${line}:${col}`;
  };
  const at: Locate = (node, fallback) => place(start(node) ?? start(fallback));
  const problems = doc.errors.map((e) => `${place(e.pos[0])}: ${e.message.split('\n')[0]}`);
  if (problems.length > 0) throw invalid(problems);
  const root = doc.contents;
  if (!isMap(root)) throw invalid([`${place(0)}: the file must be a YAML map of settings`]);
  const values = (doc.toJS() ?? {}) as Record<string, unknown>;
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
  if (problems.length > 0) throw invalid(problems);
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
  if (isScalar(node) && node.value === null) return []; // `config:` with nothing under it
  if (!isMap(node)) return [`${at(node)}: "${key}" must be a map of KEY: value`];
  const problems: string[] = [];
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof k !== 'string' || k === '') {
      problems.push(`${at(pair.key)}: "${key}" keys must be non-empty strings`);
      continue;
    }
    if (!isScalar(pair.value) || pair.value.value === null) {
      // An empty value (`KEY:`) is pointed at by its key; a map or list by where it starts.
      const node = isScalar(pair.value) ? pair.key : pair.value;
      problems.push(`${at(node, pair.key)}: "${key}.${k}" must be a string, number or boolean`);
    }
  }
  return problems;
};

/** Reads a validated `config:` node's values as text: a number keeps the digits as written (`1.50` stays "1.50"). */
export function configValues(node: unknown): Record<string, string> | undefined {
  if (!isMap(node)) return undefined;
  const out: Record<string, string> = {};
  for (const pair of node.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
    const source = (pair.value.srcToken as { source?: string } | undefined)?.source;
    const value = pair.value.value;
    out[String(pair.key.value)] = typeof value === 'string' ? value : source ?? String(value);
  }
  return out;
}

const ANNOTATION_KEY = /^[!-~]+$/;

/** `annotations:`, with the server's rules (CONTRACT §4.5), so deploy does not fail halfway on a 400. */
export const checkAnnotationsNode: NonNullable<Rule['checkNode']> = (node, at, key) => {
  if (isScalar(node) && node.value === null) return [];
  if (!isMap(node)) return [`${at(node)}: "${key}" must be a map of KEY: value`];
  const problems: string[] = [];
  if (node.items.length > 100) problems.push(`${at(node)}: "${key}" may have at most 100 keys`);
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? pair.key.value : undefined;
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
