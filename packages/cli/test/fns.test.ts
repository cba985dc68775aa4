// `fnts create|list|inspect|update|delete fn`, `fnts config fn`, `fnts unset config fn`, against a real server.
import { describe, expect, it } from 'vitest';
import { createAppCommand, deleteAppCommand } from '../src/commands/apps/apps.js';
import {
  configFnCommand, createFnCommand, deleteFnCommand, inspectFnCommand, listFnsCommand, unsetFnConfigCommand,
  updateFnCommand,
} from '../src/commands/fns/fns.js';
import { CliError } from '../src/errors.js';
import { serverPerTest, type Captured } from './support/harness.js';

const server = serverPerTest();

async function withApp(name = 'shop'): Promise<Captured> {
  const cli = server.cli();
  await createAppCommand({ name }, cli.ctx);
  cli.clear();
  return cli;
}

describe('functions', () => {
  it('creates a function with limits and config, and says so', async () => {
    const cli = await withApp();
    const fn = await createFnCommand(
      { app: 'shop', name: 'checkout', image: 'acme/checkout:0.0.1', memory: 256, timeout: 60, idleTimeout: 120, config: ['A=1'] },
      cli.ctx,
    );
    expect(cli.stdout()).toBe('Successfully created function: checkout with acme/checkout:0.0.1\n');
    expect(fn).toMatchObject({ name: 'checkout', image: 'acme/checkout:0.0.1', memory: 256, timeout: 60, idle_timeout: 120, config: { A: '1' } });
  });

  it('fills in the server defaults for limits not given', async () => {
    const cli = await withApp();
    const fn = await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    expect(fn).toMatchObject({ memory: 128, timeout: 30, idle_timeout: 30, config: {} });
  });

  it('refuses an image without a tag before calling the server', async () => {
    const cli = await withApp();
    for (const image of ['hello', 'registry:5000/hello']) {
      await expect(createFnCommand({ app: 'shop', name: 'f', image }, cli.ctx)).rejects.toMatchObject({
        code: 'FNTS_ERR_USAGE',
        message: `image "${image}" must have a tag`,
      });
    }
    await expect(createFnCommand({ app: 'shop', name: 'f', image: 'registry:5000/hello:1.0' }, cli.ctx)).resolves.toBeDefined();
  });

  it('lists functions as an aligned NAME/IMAGE/ID table', async () => {
    const cli = await withApp();
    const a = await createFnCommand({ app: 'shop', name: 'a', image: 'a-long-image:0.0.1' }, cli.ctx);
    const b = await createFnCommand({ app: 'shop', name: 'bb', image: 'b:1' }, cli.ctx);
    cli.clear();
    await listFnsCommand({ app: 'shop' }, cli.ctx);
    expect(cli.stdout()).toBe(
      ['NAME  IMAGE               ID', `a     a-long-image:0.0.1  ${a.id}`, `bb    b:1                 ${b.id}`, ''].join('\n'),
    );
  });

  it('lists functions as JSON with --output json, and says when there are none', async () => {
    const cli = await withApp();
    await listFnsCommand({ app: 'shop' }, cli.ctx);
    expect(cli.stderr()).toBe('No functions found for app: shop\n');
    await createFnCommand({ app: 'shop', name: 'a', image: 'a:1' }, cli.ctx);
    cli.clear();
    await listFnsCommand({ app: 'shop', output: 'json' }, cli.ctx);
    const fns = JSON.parse(cli.stdout()) as Array<{ name: string; annotations: Record<string, string> }>;
    expect(fns.map((f) => f.name)).toEqual(['a']);
    expect(fns[0]?.annotations['fnproject.io/fn/invokeEndpoint']).toMatch(new RegExp(`^${server.url}/invoke/`));
  });

  it('lists only the functions of the named app', async () => {
    const cli = await withApp('one');
    await createAppCommand({ name: 'two' }, cli.ctx);
    await createFnCommand({ app: 'one', name: 'f1', image: 'f:1' }, cli.ctx);
    await createFnCommand({ app: 'two', name: 'f2', image: 'f:1' }, cli.ctx);
    expect((await listFnsCommand({ app: 'two', output: 'json' }, cli.ctx)).map((f) => f.name)).toEqual(['f2']);
  });

  it('inspects a function, or one field such as its invoke endpoint', async () => {
    const cli = await withApp();
    const fn = await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    cli.clear();
    await inspectFnCommand({ app: 'shop', fn: 'f' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toMatchObject({ id: fn.id, name: 'f', image: 'f:1' });

    cli.clear();
    await inspectFnCommand({ app: 'shop', fn: 'f', field: 'annotations.fnproject.io/fn/invokeEndpoint' }, cli.ctx);
    expect(cli.stdout()).toBe(`${server.url}/invoke/${fn.id}\n`);

    cli.clear();
    await inspectFnCommand({ app: 'shop', fn: 'f', field: 'memory', output: 'json' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toBe(128);
  });

  it('updates the image and limits, merging config', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1', config: ['A=1', 'B=2'] }, cli.ctx);
    cli.clear();
    const fn = await updateFnCommand({ app: 'shop', fn: 'f', image: 'f:2', memory: 512, timeout: 10, config: ['B=3'] }, cli.ctx);
    expect(cli.stdout()).toBe('shop f updated\n');
    expect(fn).toMatchObject({ image: 'f:2', memory: 512, timeout: 10, idle_timeout: 30, config: { A: '1', B: '3' } });
  });

  it('refuses an update with nothing to change, and an untagged image', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    await expect(updateFnCommand({ app: 'shop', fn: 'f' }, cli.ctx)).rejects.toMatchObject({ message: 'nothing to update' });
    await expect(updateFnCommand({ app: 'shop', fn: 'f', image: 'f' }, cli.ctx)).rejects.toMatchObject({ message: 'image "f" must have a tag' });
  });

  it('passes the server range checks through', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    await expect(updateFnCommand({ app: 'shop', fn: 'f', timeout: 301 }, cli.ctx)).rejects.toMatchObject({
      message: 'server answered 400: timeout value is out of range, must be between 0 and 300',
    });
  });

  it('deletes a function', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    cli.clear();
    await deleteFnCommand({ app: 'shop', fn: 'f' }, cli.ctx);
    expect(cli.stdout()).toBe('shop f deleted\n');
    expect(await listFnsCommand({ app: 'shop', output: 'json' }, cli.ctx)).toEqual([]);
  });

  it('sets and unsets one config key, keeping the others', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1', config: ['A=1'] }, cli.ctx);
    cli.clear();
    expect((await configFnCommand({ app: 'shop', fn: 'f', key: 'B', value: '2' }, cli.ctx)).config).toEqual({ A: '1', B: '2' });
    expect(cli.stdout()).toBe('shop f updated B with 2\n');

    cli.clear();
    expect((await unsetFnConfigCommand({ app: 'shop', fn: 'f', key: 'A' }, cli.ctx)).config).toEqual({ B: '2' });
    expect(cli.stdout()).toBe("Removed key 'A' from function 'f' in app 'shop'\n");

    cli.clear();
    await inspectFnCommand({ app: 'shop', fn: 'f', field: 'config' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual({ B: '2' });
  });

  it('names an unknown function and hints at listing or deploying', async () => {
    const cli = await withApp();
    const err = await inspectFnCommand({ app: 'shop', fn: 'ghost' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'FNTS_ERR_NOT_FOUND', message: 'function "ghost" in app "shop" not found' });
    expect((err as CliError).hint).toContain('fnts list fns shop');
  });

  it('names an unknown app before looking for the function', async () => {
    const cli = server.cli();
    for (const run of [
      () => createFnCommand({ app: 'ghost', name: 'f', image: 'f:1' }, cli.ctx),
      () => listFnsCommand({ app: 'ghost' }, cli.ctx),
      () => deleteFnCommand({ app: 'ghost', fn: 'f' }, cli.ctx),
      () => configFnCommand({ app: 'ghost', fn: 'f', key: 'K', value: 'V' }, cli.ctx),
    ]) {
      await expect(run()).rejects.toMatchObject({ message: 'app "ghost" not found', hint: expect.stringContaining('fnts list apps') });
    }
  });

  it('reports a duplicate function with a hint to update it', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    await expect(createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx)).rejects.toMatchObject({
      status: 409,
      message: 'server answered 409: Fn with specified name already exists',
      hint: expect.stringContaining('fnts update fn shop f'),
    });
  });

  it('deleting an app deletes its functions', async () => {
    const cli = await withApp();
    await createFnCommand({ app: 'shop', name: 'f', image: 'f:1' }, cli.ctx);
    await deleteAppCommand({ name: 'shop' }, cli.ctx);
    await createAppCommand({ name: 'shop' }, cli.ctx);
    expect(await listFnsCommand({ app: 'shop', output: 'json' }, cli.ctx)).toEqual([]);
  });
});
