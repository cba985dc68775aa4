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
      '  func.yaml:4:10: "runtime" must be one of typescript, node, docker',
      '  func.yaml:5:9: "memory" must be an integer from 1 to 8192',
    ].join('\n'));
    expect(error?.hint).toBe('fix the lines above and run the command again');
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
    'format: http-stream        # an unknown key, kept',
    'x-team:',
    '  owner: alice',
    'config:',
    '  # the greeting',
    '  GREETING: hi',
  );

  it('keeps comments, order and unknown keys when a field is written back', async () => {
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
  });
});
