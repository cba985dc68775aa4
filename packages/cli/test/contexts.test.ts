// Contexts: `fnts create|use|list|inspect|update|delete context`, stored under a temp home, and how loadSettings
// resolves the server address and registry from the environment, the current context and the defaults.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createContextCommand, deleteContextCommand, inspectContextCommand, listContextsCommand, updateContextCommand,
  useContextCommand,
} from '../src/commands/contexts/contexts.js';
import { loadSettings } from '../src/settings.js';
import { captureContext, tempDirPerTest, type Captured } from './support/harness.js';

const home = tempDirPerTest();

/** A CLI context whose settings are loaded from the temp home, as main.ts does. */
function cli(env: Record<string, string> = {}): Captured {
  const settings = loadSettings(env, { homeDir: home.path, lenient: true });
  return captureContext(settings.apiUrl, home.path, settings);
}

describe('contexts', () => {
  it('has an implied default context at http://127.0.0.1:8080 with no registry', async () => {
    const c = cli();
    const contexts = await listContextsCommand({}, c.ctx);
    expect(contexts).toEqual([{ name: 'default', 'api-url': 'http://127.0.0.1:8080', current: true }]);
    expect(c.stdout()).toBe('CURRENT  NAME     API URL                REGISTRY\n*        default  http://127.0.0.1:8080\n');
    expect(loadSettings({}, { homeDir: home.path })).toMatchObject({ apiUrl: 'http://127.0.0.1:8080', context: 'default' });
    expect(loadSettings({}, { homeDir: home.path }).registry).toBeUndefined();
  });

  it('creates a context file, switches to it, and the settings follow it', async () => {
    const c = cli();
    await createContextCommand({ name: 'prod', apiUrl: 'http://fn.example:8080/', registry: 'registry.example:5000/team' }, c.ctx);
    expect(c.stdout()).toBe('Successfully created context: prod\n');
    expect(await readFile(join(home.path, 'contexts', 'prod.yaml'), 'utf8'))
      .toBe('api-url: http://fn.example:8080\nregistry: registry.example:5000/team\n');
    // Creating does not switch.
    expect(loadSettings({}, { homeDir: home.path }).context).toBe('default');

    await useContextCommand({ name: 'prod' }, cli().ctx);
    expect(await readFile(join(home.path, 'config.yaml'), 'utf8')).toBe('current-context: prod\n');
    expect(loadSettings({}, { homeDir: home.path })).toMatchObject({
      context: 'prod', contextSource: 'config', apiUrl: 'http://fn.example:8080', registry: 'registry.example:5000/team',
    });

    const listed = cli();
    await listContextsCommand({ output: 'json' }, listed.ctx);
    expect(JSON.parse(listed.stdout())).toEqual([
      { name: 'default', 'api-url': 'http://127.0.0.1:8080', current: false },
      { name: 'prod', 'api-url': 'http://fn.example:8080', registry: 'registry.example:5000/team', current: true },
    ]);

    const inspected = cli();
    await inspectContextCommand({ field: 'registry' }, inspected.ctx);
    expect(inspected.stdout()).toBe('registry.example:5000/team\n');
  });

  it('lets FNTS_CONTEXT, FNTS_API_URL and FNTS_REGISTRY override the current context', async () => {
    await createContextCommand({ name: 'a', apiUrl: 'http://a:1', registry: 'ra' }, cli().ctx);
    await createContextCommand({ name: 'b', apiUrl: 'http://b:2', registry: 'rb' }, cli().ctx);
    await useContextCommand({ name: 'a' }, cli().ctx);
    const opts = { homeDir: home.path };
    expect(loadSettings({ FNTS_CONTEXT: 'b' }, opts)).toMatchObject({ context: 'b', contextSource: 'env', apiUrl: 'http://b:2', registry: 'rb' });
    expect(loadSettings({ FNTS_API_URL: 'http://env:9/' }, opts)).toMatchObject({ context: 'a', apiUrl: 'http://env:9', registry: 'ra' });
    expect(loadSettings({ FNTS_REGISTRY: 'envreg:5000' }, opts)).toMatchObject({ apiUrl: 'http://a:1', registry: 'envreg:5000' });
    // An empty FNTS_REGISTRY means "no registry": images stay on the local engine.
    expect(loadSettings({ FNTS_REGISTRY: '' }, opts).registry).toBeUndefined();
  });

  it('reads the home from FNTS_HOME unless one is passed in', async () => {
    await createContextCommand({ name: 'x', apiUrl: 'http://x:1' }, cli().ctx);
    await useContextCommand({ name: 'x' }, cli().ctx);
    expect(loadSettings({ FNTS_HOME: home.path })).toMatchObject({ homeDir: home.path, context: 'x', apiUrl: 'http://x:1' });
  });

  it('refuses to delete the current context, with a hint, and deletes another one', async () => {
    await createContextCommand({ name: 'prod', apiUrl: 'http://p:1' }, cli().ctx);
    await useContextCommand({ name: 'prod' }, cli().ctx);
    await expect(deleteContextCommand({ name: 'prod' }, cli().ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_CONTEXT_IN_USE',
      message: 'context "prod" is the current context and cannot be deleted',
      hint: 'switch to another one first, for example `fnts use context default`',
    });
    await expect(deleteContextCommand({ name: 'default' }, cli().ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });

    await useContextCommand({ name: 'default' }, cli().ctx);
    const c = cli();
    await deleteContextCommand({ name: 'prod' }, c.ctx);
    expect(c.stdout()).toBe('Successfully deleted context: prod\n');
    expect(existsSync(join(home.path, 'contexts', 'prod.yaml'))).toBe(false);
  });

  it('rejects a duplicate, a missing context, a bad URL and a registry with a scheme', async () => {
    await createContextCommand({ name: 'dup' }, cli().ctx);
    await expect(createContextCommand({ name: 'dup' }, cli().ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_CONTEXT_EXISTS' });
    await expect(useContextCommand({ name: 'ghost' }, cli().ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_CONTEXT_NOT_FOUND', message: 'context "ghost" not found',
    });
    await expect(createContextCommand({ name: 'u', apiUrl: 'localhost:8080' }, cli().ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });
    await expect(createContextCommand({ name: 'r', registry: 'https://reg.example' }, cli().ctx)).rejects.toMatchObject({
      message: '--registry "https://reg.example" must not have a scheme: write registry.example.com:5000/team, not https://…',
    });
    await expect(createContextCommand({ name: '../evil' }, cli().ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });
  });

  it('updates a context keeping comments and unknown keys, and "" clears the registry', async () => {
    await mkdir(join(home.path, 'contexts'), { recursive: true });
    await writeFile(join(home.path, 'contexts', 'dev.yaml'), '# my dev box\napi-url: http://dev:8080\nprovider: default\nregistry: old\n');
    await updateContextCommand({ name: 'dev', registry: 'new:5000' }, cli().ctx);
    expect(await readFile(join(home.path, 'contexts', 'dev.yaml'), 'utf8'))
      .toBe('# my dev box\napi-url: http://dev:8080\nprovider: default\nregistry: new:5000\n');
    await updateContextCommand({ name: 'dev', registry: '' }, cli().ctx);
    expect(await readFile(join(home.path, 'contexts', 'dev.yaml'), 'utf8')).toBe('# my dev box\napi-url: http://dev:8080\nprovider: default\n');
  });

  it('fails with a hint when config.yaml names a missing context, and the context commands can still repair it', async () => {
    await writeFile(join(home.path, 'config.yaml'), 'current-context: gone\n');
    expect(() => loadSettings({}, { homeDir: home.path })).toThrow('context "gone" not found');
    try {
      loadSettings({}, { homeDir: home.path });
    } catch (err) {
      expect((err as { hint?: string }).hint).toContain('fnts use context default');
    }
    await useContextCommand({ name: 'default' }, cli().ctx);
    expect(loadSettings({}, { homeDir: home.path }).context).toBe('default');
  });

  it('reports every problem in a context file with its line', async () => {
    await mkdir(join(home.path, 'contexts'), { recursive: true });
    const file = join(home.path, 'contexts', 'bad.yaml');
    await writeFile(file, 'api-url: ftp://x\nregistry: https://r\n');
    expect(() => loadSettings({ FNTS_CONTEXT: 'bad' }, { homeDir: home.path })).toThrow(
      `${file} has 2 problem(s):\n  ${file}:1:10: "api-url" must start with http:// or https://\n  ${file}:2:11: "registry" must not have a scheme`,
    );
  });
});
