// `fnts init --trigger http`: func.yaml gets a trigger named after the function, at /<name>.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCommand } from '../src/commands/init/init.js';
import { parseFuncFile } from '../src/funcfile.js';
import { captureContext, tempDirPerTest } from './support/harness.js';

const dir = tempDirPerTest();

describe('init --trigger', () => {
  it('writes an http trigger named after the function, which func.yaml validation accepts', async () => {
    const cli = captureContext('http://127.0.0.1:8080', dir.path);
    await initCommand({ dir: 'hello', trigger: 'http' }, cli.ctx);
    const text = await readFile(join(dir.path, 'hello', 'func.yaml'), 'utf8');
    expect(text).toBe([
      'schema_version: 20180708',
      'name: hello',
      'version: 0.0.1',
      'runtime: typescript',
      '# Memory in MiB and timeout in seconds for each call.',
      'memory: 128',
      'timeout: 30',
      'triggers:',
      '  - name: hello',
      '    type: http',
      '    source: /hello',
      '',
    ].join('\n'));
    expect(parseFuncFile(text, 'func.yaml').func.triggers).toEqual([{ name: 'hello', type: 'http', source: '/hello' }]);
    expect(cli.stderr()).toContain('its http trigger will answer at http://127.0.0.1:8080/t/myapp/hello');
  });

  it('makes a valid trigger name from a function name with a dot', async () => {
    const cli = captureContext('http://127.0.0.1:8080', dir.path);
    await initCommand({ dir: 'x', name: 'v1.hello', runtime: 'node', trigger: 'http' }, cli.ctx);
    const { func } = parseFuncFile(await readFile(join(dir.path, 'x', 'func.yaml'), 'utf8'), 'func.yaml');
    expect(func.triggers).toEqual([{ name: 'v1-hello', type: 'http', source: '/v1.hello' }]);
  });

  it('writes no triggers without --trigger', async () => {
    const cli = captureContext('http://127.0.0.1:8080', dir.path);
    await initCommand({ dir: 'plain' }, cli.ctx);
    expect(await readFile(join(dir.path, 'plain', 'func.yaml'), 'utf8')).not.toContain('triggers');
  });

  it('refuses an unknown trigger type before writing anything', async () => {
    const cli = captureContext('http://127.0.0.1:8080', dir.path);
    await expect(initCommand({ dir: 'bad', trigger: 'stream' }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE',
      message: 'unknown trigger type "stream"',
      hint: 'use --trigger http',
    });
    await expect(readFile(join(dir.path, 'bad', 'func.yaml'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
