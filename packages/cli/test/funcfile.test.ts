// func.yaml: one schema, every problem at once with its line and column; edits that keep comments and unknown keys;
// `fnts bump`; app.yaml.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAppFile } from '../src/appfile.js';
import { bumpCommand } from '../src/commands/bump/bump.js';
import { CliError } from '../src/errors.js';
import { bumpVersion, loadFuncFile, parseFuncFile, updateFuncFile } from '../src/funcfile.js';
import { captureContext, tempDirPerTest } from './support/harness.js';

const dir = tempDirPerTest();

function problems(text: string, parse: (t: string) => unknown = (t) => parseFuncFile(t, 'func.yaml')): string[] {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as CliError).message.split('\n').slice(1).map((l) => l.trim());
  }
  return [];
}

const lines = (...l: string[]) => [...l, ''].join('\n');

describe('func.yaml validation', () => {
  it('reports three mistakes as three errors, each with its line and column', () => {
    const text = lines(
      'schema_version: 20180708',
      'name: Hello',            // line 2: uppercase
      'version: 0.0.1',
      'runtime: python',        // line 4: unknown runtime
      'memory: 100000',         // line 5: out of range
    );
    let error: CliError | undefined;
    try {
      parseFuncFile(text, 'func.yaml');
    } catch (err) {
      error = err as CliError;
    }
    expect(error?.code).toBe('FNTS_ERR_FUNCFILE_INVALID');
    expect(error?.message).toBe([
      'func.yaml has 3 problem(s):',
      '  func.yaml:2:7: "name" must be lowercase letters, digits, ".", "_" or "-" (at most 255)',
      '  func.yaml:4:10: "runtime" must be one of typescript, node, docker; another language builds with runtime docker and your own Dockerfile',
      '  func.yaml:5:9: "memory" must be an integer from 1 to 8192',
    ].join('\n'));
    expect(error?.hint).toBe('fix the lines above and run the command again');
  });

  it('names the known key or value a typo is near, for every key and enum', () => {
    expect(problems(lines(
      'schema_version: 20180708', 'name: a', 'version: 0.0.1',
      'runtime: typescipt',
      'memroy: 256',
      'idle_timout: 60',
      'build_imag: fnproject/node:20-dev',
      'colour: blue',
    ))).toEqual([
      'func.yaml:4:10: "runtime" must be one of typescript, node, docker; did you mean "typescript"?',
      'func.yaml:5:1: unknown key "memroy"; did you mean "memory"?',
      'func.yaml:6:1: unknown key "idle_timout"; did you mean "idle_timeout"?',
      'func.yaml:7:1: unknown key "build_imag"; did you mean "build_image"?',
      'func.yaml:8:1: unknown key "colour"; known keys: schema_version, name, version, runtime, memory, timeout, idle_timeout, '
        + 'max_containers, concurrency, content_type, run_image, config, annotations, triggers (keys of your own start with "x-")',
    ]);
  });

  it('suggests the runtime for its common other names', () => {
    const runtime = (r: string) => problems(lines('schema_version: 20180708', 'name: a', 'version: 0.0.1', `runtime: ${r}`));
    expect([...runtime('javascript'), ...runtime('ts'), ...runtime('nodejs')]).toEqual([
      'func.yaml:4:10: "runtime" must be one of typescript, node, docker; did you mean "node"?',
      'func.yaml:4:10: "runtime" must be one of typescript, node, docker; did you mean "typescript"?',
      'func.yaml:4:10: "runtime" must be one of typescript, node, docker; did you mean "node"?',
    ]);
  });

  it("accepts the keys of Fn's func.yaml that fnts ignores, and the user's own x- keys", () => {
    expect(problems(lines(
      'schema_version: 20180708', 'name: a', 'version: 0.0.1', 'runtime: node',
      'build_image: fnproject/node:20-dev', 'run_image: fnproject/node:20', 'entrypoint: node func.js', 'cmd: func.handler',
      'format: http-stream', 'type: sync', 'build: [make]', 'expects: {config: [{name: A, required: true}]}',
      'x-team: payments',
    ))).toEqual([]);
  });

  it('shows a YAML syntax error with its file, line and column, and the offending line with a caret', () => {
    const text = lines('schema_version: 20180708', 'name: a', 'version: 0.0.1', 'runtime: node', 'config:', '  GREETING: hello: there');
    let error: CliError | undefined;
    try {
      parseFuncFile(text, 'func.yaml');
    } catch (err) {
      error = err as CliError;
    }
    expect(error?.code).toBe('FNTS_ERR_FUNCFILE_INVALID');
    expect(error?.message).toBe([
      'func.yaml has 1 problem(s):',
      '  func.yaml:6:13: Nested mappings are not allowed in compact mappings',
      '    5 | config:',
      '    6 |   GREETING: hello: there',
      '      |             ^',
    ].join('\n'));
  });

  it('reports a YAML syntax error with its line, and missing required fields', () => {
    expect(problems('name: [oops\n')[0]).toMatch(/^func\.yaml:\d+:\d+: /);
    expect(problems(lines('schema_version: 20180708', 'name: a'))).toEqual([
      'func.yaml:1:1: missing required field "version"',
      'func.yaml:1:1: missing required field "runtime"',
    ]);
  });

  it('accepts the fnts extensions and Fn fields, and reads config scalars as text like Fn', () => {
    const { func } = parseFuncFile(lines(
      'schema_version: 20180708', 'name: a', 'version: 0.0.1', 'runtime: node',
      'idle_timeout: 60', 'max_containers: 4', 'concurrency: 8', 'content_type: application/json', 'run_image: node:20-slim',
      'config:', '  PORT: 8080', '  RATIO: 1.50', '  DEBUG: true', '  NAME: x',
      'annotations:', '  team: payments', '  limits: {cpu: 2}',
      'build_image: fnproject/node:20-dev', // Fn's field, not used by fnts: kept and ignored
    ), 'func.yaml');
    expect(func).toMatchObject({
      idle_timeout: 60, max_containers: 4, concurrency: 8, content_type: 'application/json', run_image: 'node:20-slim',
      config: { PORT: '8080', RATIO: '1.50', DEBUG: 'true', NAME: 'x' },
      annotations: { team: 'payments', limits: { cpu: 2 } },
    });
  });

  it('points at the exact key inside config, annotations and the extension fields', () => {
    expect(problems(lines(
      'schema_version: 20180708', 'name: a', 'version: 0.0.1', 'runtime: typescript',
      'max_containers: 0',
      'concurrency: lots',
      'config:',
      '  EMPTY:',
      '  OK: yes',
      'annotations:',
      '  has space: 1',
      '  flag: true',
    ))).toEqual([
      'func.yaml:5:17: "max_containers" must be an integer from 1 to 10000',
      'func.yaml:6:14: "concurrency" must be an integer from 1 to 1000',
      'func.yaml:8:3: "config.EMPTY" must be a string, number or boolean',
      'func.yaml:11:3: "annotations" keys must be printable ASCII without spaces, at most 128 bytes',
      'func.yaml:12:9: "annotations.flag" must be a non-empty string, a number, a map or a list',
    ]);
  });

  it('rejects run_image with runtime docker, where the Dockerfile picks the image', () => {
    expect(problems(lines('schema_version: 20180708', 'name: a', 'version: 0.0.1', 'runtime: docker', 'run_image: node:20'))).toEqual([
      'func.yaml:5:12: "run_image" is used by runtimes typescript and node; with runtime docker, the FROM line of your Dockerfile picks the image',
    ]);
  });
});

describe('func.yaml edits', () => {
  const original = lines(
    '# My function.',
    'schema_version: 20180708',
    'name: hello',
    'version: 0.0.1   # bumped by deploy',
    'runtime: typescript',
    'format: http-stream        # an Fn key fnts ignores, kept',
    'x-team:',
    '  owner: alice',
    'config:',
    '  # the greeting',
    '  GREETING: hi',
  );

  it("keeps comments, order, Fn's keys and x- keys when a field is written back", async () => {
    await writeFile(join(dir.path, 'func.yaml'), original);
    const loaded = await loadFuncFile(dir.path);
    await updateFuncFile(loaded, 'version', '0.0.2');
    expect(await readFile(join(dir.path, 'func.yaml'), 'utf8')).toBe(original.replace('version: 0.0.1', 'version: 0.0.2'));
  });

  it('bumps patch, minor and major, and prints the new version', async () => {
    await writeFile(join(dir.path, 'func.yaml'), original);
    const cli = captureContext('http://127.0.0.1:1', dir.path);
    expect(await bumpCommand({}, cli.ctx)).toBe('0.0.2');
    expect(await bumpCommand({ minor: true }, cli.ctx)).toBe('0.1.0');
    expect(await bumpCommand({ major: true }, cli.ctx)).toBe('1.0.0');
    expect(cli.stdout()).toBe('Bumped to version 0.0.2\nBumped to version 0.1.0\nBumped to version 1.0.0\n');
    expect(await readFile(join(dir.path, 'func.yaml'), 'utf8')).toBe(original.replace('version: 0.0.1', 'version: 1.0.0'));
    await expect(bumpCommand({ major: true, minor: true }, cli.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });
  });

  it('computes versions', () => {
    expect(bumpVersion('1.4.9')).toBe('1.4.10');
    expect(bumpVersion('1.4.9', 'minor')).toBe('1.5.0');
    expect(bumpVersion('1.4.9', 'major')).toBe('2.0.0');
  });
});

describe('app.yaml', () => {
  it('reads name, config, annotations and syslog_url, and reports problems with lines', () => {
    expect(parseAppFile(lines('name: shop', 'config:', '  DB: x', 'syslog_url: tcp://logs:514'), 'app.yaml')).toEqual({
      name: 'shop', config: { DB: 'x' }, syslog_url: 'tcp://logs:514',
    });
    expect(problems(lines('name: my shop', 'syslog_url: http://x'), (t) => parseAppFile(t, 'app.yaml'))).toEqual([
      'app.yaml:1:7: "name" must be letters, digits, "_" or "-" (at most 255)',
      'app.yaml:2:13: "syslog_url" must start with tcp://, udp://, unix://, unixgram:// or tcp+tls://',
    ]);
    expect(problems(lines('name: shop', 'confg:', '  DB: x', 'syslog: tcp://logs:514', 'x-owner: ops'), (t) => parseAppFile(t, 'app.yaml'))).toEqual([
      'app.yaml:2:1: unknown key "confg"; did you mean "config"?',
      'app.yaml:4:1: unknown key "syslog"; did you mean "syslog_url"?',
    ]);
    expect(problems('name: [shop\n', (t) => parseAppFile(t, 'app.yaml'))).toEqual([
      'app.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '1 | name: [shop',
      '2 |',
      '| ^',
    ]);
  });
});
