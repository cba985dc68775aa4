// `fnts create|list|inspect|update|delete trigger` and the trigger step of `fnts deploy`, against a real server.
// These need the server's /v2/triggers routes.
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/client.js';
import { createAppCommand, deleteAppCommand } from '../src/commands/apps/apps.js';
import { createFnCommand, deleteFnCommand } from '../src/commands/fns/fns.js';
import {
  createTriggerCommand, deleteTriggerCommand, deployTriggers, inspectTriggerCommand, listTriggersCommand,
  updateTriggerCommand, withLeadingSlash,
} from '../src/commands/triggers/triggers.js';
import { CliError } from '../src/errors.js';
import { serverPerTest, type Captured } from './support/harness.js';

const server = serverPerTest();

/** An app `shop` with functions `checkout` and `cart`. */
async function withFns(): Promise<Captured> {
  const cli = server.cli();
  await createAppCommand({ name: 'shop' }, cli.ctx);
  await createFnCommand({ app: 'shop', name: 'checkout', image: 'checkout:1' }, cli.ctx);
  await createFnCommand({ app: 'shop', name: 'cart', image: 'cart:1' }, cli.ctx);
  cli.clear();
  return cli;
}

describe('triggers', () => {
  it('adds the leading slash a source needs', () => {
    expect(withLeadingSlash('hello')).toBe('/hello');
    expect(withLeadingSlash('/hello')).toBe('/hello');
  });

  it('creates an http trigger and prints its endpoint; a missing leading / is added', async () => {
    const cli = await withFns();
    const t = await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', type: 'http', source: 'pay' }, cli.ctx);
    expect(t).toMatchObject({ name: 'pay', type: 'http', source: '/pay' });
    expect(cli.stdout()).toBe(`Successfully created trigger: pay\nTrigger Endpoint: ${server.url}/t/shop/pay\n`);
  });

  it('defaults the type to http and requires a source', async () => {
    const cli = await withFns();
    await expect(createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx)).resolves.toMatchObject({ type: 'http' });
    await expect(createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'nosrc' }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE',
      message: 'a trigger needs a source',
    });
  });

  it('passes the server message through for an unsupported type', async () => {
    const cli = await withFns();
    await expect(createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'x', type: 'carrier-pigeon', source: '/x' }, cli.ctx))
      .rejects.toMatchObject({ status: 400, message: 'server answered 400: Trigger Type Not Supported' });
  });

  it('reports a source already used in the app with a hint', async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'a', source: '/same' }, cli.ctx);
    await expect(createTriggerCommand({ app: 'shop', fn: 'cart', name: 'b', source: '/same' }, cli.ctx)).rejects.toMatchObject({
      status: 409,
      message: 'server answered 409: Trigger with the same type and source exists on this app',
      hint: expect.stringContaining('fnts list triggers shop'),
    });
  });

  it('reports a trigger name already used on the function with a hint to update it', async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    await expect(createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/other' }, cli.ctx)).rejects.toMatchObject({
      status: 409,
      message: 'server answered 409: Trigger already exists',
      hint: 'change it with `fnts update trigger shop checkout pay`, or pick another name',
    });
  });

  it("lists a function's triggers as NAME/ID/TYPE/SOURCE/ENDPOINT", async () => {
    const cli = await withFns();
    const t = await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    await createTriggerCommand({ app: 'shop', fn: 'cart', name: 'add', source: '/cart/add' }, cli.ctx);
    cli.clear();
    await listTriggersCommand({ app: 'shop', fn: 'checkout' }, cli.ctx);
    const lines = cli.stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['NAME', 'ID', 'TYPE', 'SOURCE', 'ENDPOINT']);
    expect(lines[1]?.split(/\s{2,}/)).toEqual(['pay', t.id, 'http', '/pay', `${server.url}/t/shop/pay`]);
  });

  it("lists an app's triggers with the function each one calls", async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    await createTriggerCommand({ app: 'shop', fn: 'cart', name: 'add', source: '/cart/add' }, cli.ctx);
    cli.clear();
    await listTriggersCommand({ app: 'shop' }, cli.ctx);
    const rows = cli.stdout().trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['FUNCTION', 'NAME', 'ID', 'TYPE', 'SOURCE', 'ENDPOINT']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[4]]).sort()).toEqual([['cart', 'add', '/cart/add'], ['checkout', 'pay', '/pay']]);
  });

  it('lists triggers as JSON, and says when there are none', async () => {
    const cli = await withFns();
    await listTriggersCommand({ app: 'shop', fn: 'checkout' }, cli.ctx);
    expect(cli.stderr()).toBe('No triggers found for function: checkout\n');
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    cli.clear();
    await listTriggersCommand({ app: 'shop', output: 'json' }, cli.ctx);
    const parsed = JSON.parse(cli.stdout()) as Array<Record<string, unknown>>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ name: 'pay', type: 'http', source: '/pay' });
  });

  it('inspects a trigger, or one field of it', async () => {
    const cli = await withFns();
    const t = await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    cli.clear();
    await inspectTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toMatchObject({ id: t.id, name: 'pay', source: '/pay' });

    cli.clear();
    await inspectTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', field: 'id' }, cli.ctx);
    expect(cli.stdout()).toBe(`${t.id}\n`);

    cli.clear();
    await inspectTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', field: 'annotations', output: 'json' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual({ 'fnproject.io/trigger/httpEndpoint': `${server.url}/t/shop/pay` });
  });

  it('updates the source of a trigger', async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    cli.clear();
    const updated = await updateTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: 'payment' }, cli.ctx);
    expect(cli.stdout()).toBe('shop checkout pay updated\n');
    expect(updated.source).toBe('/payment');
    await expect(updateTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay' }, cli.ctx)).rejects.toMatchObject({ message: 'nothing to update' });
  });

  it('deletes a trigger', async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    cli.clear();
    await deleteTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay' }, cli.ctx);
    expect(cli.stdout()).toBe('shop checkout pay deleted\n');
    expect(await listTriggersCommand({ app: 'shop', output: 'json' }, cli.ctx)).toEqual([]);
  });

  it('names an unknown trigger and hints at listing the triggers', async () => {
    const cli = await withFns();
    const err = await inspectTriggerCommand({ app: 'shop', fn: 'checkout', name: 'ghost' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ message: 'trigger "ghost" on function "checkout" in app "shop" not found' });
    expect((err as CliError).hint).toContain('fnts list triggers shop checkout');
  });

  it('deleting a function or an app deletes its triggers', async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'checkout', name: 'pay', source: '/pay' }, cli.ctx);
    await createTriggerCommand({ app: 'shop', fn: 'cart', name: 'add', source: '/add' }, cli.ctx);
    await deleteFnCommand({ app: 'shop', fn: 'checkout' }, cli.ctx);
    expect((await listTriggersCommand({ app: 'shop', output: 'json' }, cli.ctx)).map((t) => t.name)).toEqual(['add']);
    const appId = (await new ApiClient(server.url).findApp('shop'))?.id ?? '';
    await deleteAppCommand({ name: 'shop' }, cli.ctx);
    await expect(new ApiClient(server.url).listTriggers({ appId })).rejects.toMatchObject({ status: 404 });
  });
});

describe('deploy: func.yaml triggers', () => {
  it('creates each trigger, then updates a changed source by name and leaves unchanged ones alone', async () => {
    const cli = await withFns();
    const client = new ApiClient(server.url);
    const app = (await client.findApp('shop'))!;
    const fn = (await client.findFn(app.id, 'checkout'))!;

    const first = await deployTriggers(client, app, fn, [
      { name: 'pay', type: 'http', source: 'pay' },
      { name: 'refund', type: 'http', source: '/refund' },
    ], cli.ctx);
    expect(first.map((t) => [t.name, t.source])).toEqual([['pay', '/pay'], ['refund', '/refund']]);
    expect(cli.stderr()).toBe(
      `Trigger pay (http /pay): ${server.url}/t/shop/pay\nTrigger refund (http /refund): ${server.url}/t/shop/refund\n`,
    );

    cli.clear();
    const second = await deployTriggers(client, app, fn, [
      { name: 'pay', type: 'http', source: '/payment' },
      { name: 'refund', type: 'http', source: '/refund' },
    ], cli.ctx);
    expect(second.map((t) => t.id)).toEqual(first.map((t) => t.id));
    expect(second[0]?.source).toBe('/payment');
    expect(cli.stderr()).toContain(`Trigger pay (http /payment): ${server.url}/t/shop/payment\n`);
    expect((await client.listTriggers({ appId: app.id, fnId: fn.id })).map((t) => t.source).sort()).toEqual(['/payment', '/refund']);
  });

  it('keeps triggers that are no longer in func.yaml, as Fn does', async () => {
    const cli = await withFns();
    const client = new ApiClient(server.url);
    const app = (await client.findApp('shop'))!;
    const fn = (await client.findFn(app.id, 'checkout'))!;
    await deployTriggers(client, app, fn, [{ name: 'old', type: 'http', source: '/old' }], cli.ctx);
    await deployTriggers(client, app, fn, [{ name: 'new', type: 'http', source: '/new' }], cli.ctx);
    expect((await client.listTriggers({ appId: app.id })).map((t) => t.name).sort()).toEqual(['new', 'old']);
  });

  it("stops with a hint when another function's trigger has the source", async () => {
    const cli = await withFns();
    await createTriggerCommand({ app: 'shop', fn: 'cart', name: 'taken', source: '/pay' }, cli.ctx);
    const client = new ApiClient(server.url);
    const app = (await client.findApp('shop'))!;
    const fn = (await client.findFn(app.id, 'checkout'))!;
    await expect(deployTriggers(client, app, fn, [{ name: 'pay', type: 'http', source: '/pay' }], cli.ctx)).rejects.toMatchObject({
      status: 409,
      hint: expect.stringContaining('fnts list triggers shop'),
    });
  });
});
