import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliErrors } from './errors.js';
import { yaml } from './yaml-module.js';
import { parseYaml, type Schema } from './yaml-schema.js';

/**
 * Where contexts live (Fn's layout under `~/.fnts` instead of `~/.fn`): `config.yaml` holds `current-context`, and
 * `contexts/<name>.yaml` holds `api-url` and `registry`. Edits keep comments and keys the CLI does not know.
 */

export const DEFAULT_CONTEXT = 'default';
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface ContextValues {
  'api-url': string;
  /** `host[:port][/namespace]`; function images are named `<registry>/<name>:<version>` and pushed there. */
  registry?: string;
  /** Sent as `Authorization: Bearer` on every request to the server; the file is then readable by its owner only. */
  'api-key'?: string;
}

export interface StoredContext extends ContextValues {
  name: string;
}

/** Why an api-url or registry is not acceptable, or undefined when it is. */
export function apiUrlProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a URL such as http://127.0.0.1:8080';
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must start with http:// or https://';
  } catch {
    return 'must be a URL such as http://127.0.0.1:8080';
  }
}

export function registryProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a registry such as registry.example.com:5000/team';
  if (v.includes('://')) return 'must not have a scheme: write registry.example.com:5000/team, not https://…';
  return /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(v) && !v.endsWith('/') ? undefined : 'must be a registry such as registry.example.com:5000/team';
}

/** Why an API key is not acceptable (the server's rule: printable ASCII, no spaces), or undefined when it is. */
export function apiKeyProblem(v: unknown): string | undefined {
  return typeof v === 'string' && /^[!-~]+$/.test(v) ? undefined : 'must be printable characters without spaces, as `fnts keys create` makes them';
}

const CONTEXT_SCHEMA: Schema = {
  'api-url': { check: apiUrlProblem },
  registry: { check: (v) => (v === '' || v === null ? undefined : registryProblem(v)) },
  'api-key': { check: (v) => (v === '' || v === null ? undefined : apiKeyProblem(v)) },
};

const CONFIG_SCHEMA: Schema = {
  'current-context': { check: (v) => (typeof v === 'string' && CONTEXT_NAME.test(v) ? undefined : 'must be a context name') },
};

const configPath = (home: string) => join(home, 'config.yaml');
const contextsDir = (home: string) => join(home, 'contexts');
export const contextPath = (home: string, name: string) => join(contextsDir(home), `${name}.yaml`);

function readYaml(path: string, schema: Schema): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') return {};
  return parseYaml(text, path, schema, (problems) => cliErrors.contextFileInvalid(path, problems)).values;
}

/** `current-context` from config.yaml, if set. */
export function readCurrentContext(home: string): string | undefined {
  const values = readYaml(configPath(home), CONFIG_SCHEMA);
  const name = values?.['current-context'];
  return typeof name === 'string' ? name : undefined;
}

/** A context's values; `default` exists even without a file. Undefined when there is no such context. */
export function readContext(home: string, name: string): StoredContext | undefined {
  if (!CONTEXT_NAME.test(name)) return undefined;
  const path = contextPath(home, name);
  const values = readYaml(path, CONTEXT_SCHEMA);
  if (!values) return name === DEFAULT_CONTEXT ? { name, 'api-url': DEFAULT_API_URL } : undefined;
  const registry = values.registry;
  const apiKey = values['api-key'];
  return {
    name,
    'api-url': typeof values['api-url'] === 'string' ? values['api-url'].replace(/\/+$/, '') : DEFAULT_API_URL,
    ...(typeof registry === 'string' && registry !== '' ? { registry } : {}),
    ...(typeof apiKey === 'string' && apiKey !== '' ? { 'api-key': apiKey } : {}),
  };
}

/** Every context, `default` included, sorted by name. */
export function listContexts(home: string): StoredContext[] {
  const names = new Set([DEFAULT_CONTEXT]);
  if (existsSync(contextsDir(home))) {
    for (const file of readdirSync(contextsDir(home))) {
      const m = /^(.+)\.ya?ml$/.exec(file);
      if (m?.[1] && CONTEXT_NAME.test(m[1])) names.add(m[1]);
    }
  }
  return [...names].sort().flatMap((n) => readContext(home, n) ?? []);
}

/** Sets keys of a YAML file, creating it when needed; `undefined` removes a key. Comments and other keys stay. */
function editYaml(path: string, changes: Record<string, string | undefined>): void {
  const doc = existsSync(path) ? yaml().parseDocument(readFileSync(path, 'utf8')) : new (yaml().Document)({});
  if (!yaml().isMap(doc.contents)) doc.contents = doc.createNode({}) as typeof doc.contents;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) doc.delete(key);
    else doc.set(key, value);
  }
  writeFileSync(path, doc.toString());
}

export function writeContext(home: string, name: string, changes: Partial<Record<keyof ContextValues, string | undefined>>): void {
  mkdirSync(contextsDir(home), { recursive: true });
  const path = contextPath(home, name);
  editYaml(path, changes);
  // A key is a secret: once a context holds one, only its owner may read the file.
  if (readContext(home, name)?.['api-key'] !== undefined) chmodSync(path, 0o600);
}

export function setCurrentContext(home: string, name: string): void {
  mkdirSync(home, { recursive: true });
  editYaml(configPath(home), { 'current-context': name });
}

export function contextFileExists(home: string, name: string): boolean {
  return existsSync(contextPath(home, name));
}

export function removeContext(home: string, name: string): void {
  rmSync(contextPath(home, name), { force: true });
}
