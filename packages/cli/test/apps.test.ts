// `fnts create|list|inspect|update|delete app`, `fnts config app`, `fnts unset config app`, against a real server.
import { describe, expect, it } from 'vitest';
import {
  configAppCommand, createAppCommand, deleteAppCommand, inspectAppCommand, listAppsCommand, unsetAppConfigCommand,
  updateAppCommand,
} from '../src/commands/apps/apps.js';
import { ApiError, CliError } from '../src/errors.js';
import { serverPerTest } from './support/harness.js';

const server = serverPerTest();

describe('apps', () => {
  it('creates an app with config, annotations and a syslog URL, and says so', async () => {
    const cli = server.cli();
    const app = await createAppCommand(
      { name: 'shop', config: ['DB_URL=postgres://db/shop?x=1&y=2'], annotation: ['team=payments', 'n=3'], syslogUrl: 'tcp://logs:514' },
      cli.ctx,
    );
    expect(cli.stdout()).toBe('Successfully created app: shop\n');
    expect(app).toMatchObject({
      name: 'shop',
      config: { DB_URL: 'postgres://db/shop?x=1&y=2' },
      annotations: { team: 'payments', n: 3 },
      syslog_url: 'tcp://logs:514',
    });
    expect(app.id).toMatch(/^[0-9A-Z]{26}$/);
  });

  it('lists apps as an aligned NAME/ID table sorted by name', async () => {
    const cli = server.cli();
    const b = await createAppCommand({ name: 'b-longer-name' }, cli.ctx);
    const a = await createAppCommand({ name: 'a' }, cli.ctx);
    cli.clear();
    await listAppsCommand({}, cli.ctx);
    expect(cli.stdout()).toBe(
      ['NAME           ID', `a              ${a.id}`, `b-longer-name  ${b.id}`, ''].join('\n'),
    );
  });

  it('lists apps as JSON with --output json', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'one', config: ['K=V'] }, cli.ctx);
    cli.clear();
    await listAppsCommand({ output: 'json' }, cli.ctx);
    const parsed = JSON.parse(cli.stdout()) as Array<{ name: string; config: Record<string, string> }>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ name: 'one', config: { K: 'V' } });
  });

  it('says "No apps found" on stderr for an empty list, and prints [] as JSON', async () => {
    const cli = server.cli();
    await listAppsCommand({}, cli.ctx);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toBe('No apps found\n');
    await listAppsCommand({ output: 'json' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual([]);
  });

  it('follows next_cursor to list more apps than one page holds', async () => {
    const cli = server.cli();
    const names = Array.from({ length: 105 }, (_, i) => `app-${String(i).padStart(3, '0')}`);
    for (const name of names) await createAppCommand({ name }, cli.ctx);
    const apps = await listAppsCommand({ output: 'json' }, cli.ctx);
    expect(apps.map((a) => a.name)).toEqual(names);
  });

  it('inspects an app as indented JSON, or one field of it', async () => {
    const cli = server.cli();
    const app = await createAppCommand({ name: 'shop', config: ['A=1'] }, cli.ctx);
    cli.clear();
    await inspectAppCommand({ name: 'shop' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual(app);
    expect(cli.stdout()).toContain('\n  "name": "shop"');

    cli.clear();
    await inspectAppCommand({ name: 'shop', field: 'id' }, cli.ctx);
    expect(cli.stdout()).toBe(`${app.id}\n`);

    cli.clear();
    await inspectAppCommand({ name: 'shop', field: 'id', output: 'json' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toBe(app.id);

    cli.clear();
    await inspectAppCommand({ name: 'shop', field: 'config' }, cli.ctx);
    expect(JSON.parse(cli.stdout())).toEqual({ A: '1' });

    cli.clear();
    await inspectAppCommand({ name: 'shop', field: 'config.A' }, cli.ctx);
    expect(cli.stdout()).toBe('1\n');
  });

  it('fails on an unknown field with the fields it has as the hint', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    const err = await inspectAppCommand({ name: 'shop', field: 'nope' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe('field "nope" on app "shop" not found');
    expect((err as CliError).hint).toContain('id, name');
  });

  it('updates config, annotations and the syslog URL by merging, and clears the syslog URL with ""', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop', config: ['A=1', 'B=2'], syslogUrl: 'udp://logs:514' }, cli.ctx);
    cli.clear();
    const updated = await updateAppCommand({ name: 'shop', config: ['B=3', 'C=4'], annotation: ['owner={"team":"x"}'] }, cli.ctx);
    expect(cli.stdout()).toBe('app shop updated\n');
    expect(updated.config).toEqual({ A: '1', B: '3', C: '4' });
    expect(updated.annotations).toEqual({ owner: { team: 'x' } });
    expect(updated.syslog_url).toBe('udp://logs:514');

    const cleared = await updateAppCommand({ name: 'shop', syslogUrl: '' }, cli.ctx);
    expect(cleared.syslog_url).toBeUndefined();
  });

  it('refuses an update with nothing to change', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    await expect(updateAppCommand({ name: 'shop' }, cli.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE', message: 'nothing to update' });
  });

  it('deletes an app', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    cli.clear();
    await deleteAppCommand({ name: 'shop' }, cli.ctx);
    expect(cli.stdout()).toBe('App shop deleted\n');
    expect(await listAppsCommand({ output: 'json' }, cli.ctx)).toEqual([]);
  });

  it('sets one config key and keeps the others', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop', config: ['A=1'] }, cli.ctx);
    cli.clear();
    const app = await configAppCommand({ app: 'shop', key: 'B', value: 'two words' }, cli.ctx);
    expect(cli.stdout()).toBe('shop updated B with two words\n');
    expect(app.config).toEqual({ A: '1', B: 'two words' });
  });

  it('refuses to set an empty config value, pointing at unset', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    await expect(configAppCommand({ app: 'shop', key: 'A', value: '' }, cli.ctx)).rejects.toMatchObject({
      hint: 'to remove it, run `fnts unset config app shop A`',
    });
  });

  it('unsets one config key; unsetting a missing key changes nothing and says so', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop', config: ['A=1', 'B=2'] }, cli.ctx);
    cli.clear();
    const app = await unsetAppConfigCommand({ app: 'shop', key: 'A' }, cli.ctx);
    expect(cli.stdout()).toBe("Removed key 'A' from app 'shop'\n");
    expect(app.config).toEqual({ B: '2' });

    cli.clear();
    await unsetAppConfigCommand({ app: 'shop', key: 'A' }, cli.ctx);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toBe("app 'shop' has no config key 'A'; nothing to remove\n");
  });

  it('names an unknown app and hints at `fnts list apps`', async () => {
    const cli = server.cli();
    for (const run of [
      () => inspectAppCommand({ name: 'ghost' }, cli.ctx),
      () => updateAppCommand({ name: 'ghost', config: ['A=1'] }, cli.ctx),
      () => deleteAppCommand({ name: 'ghost' }, cli.ctx),
      () => configAppCommand({ app: 'ghost', key: 'A', value: '1' }, cli.ctx),
      () => unsetAppConfigCommand({ app: 'ghost', key: 'A' }, cli.ctx),
    ]) {
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect(err).toMatchObject({ code: 'FNTS_ERR_NOT_FOUND', message: 'app "ghost" not found' });
      expect((err as CliError).hint).toContain('fnts list apps');
    }
  });

  it('reports a duplicate app with the server message and a hint', async () => {
    const cli = server.cli();
    await createAppCommand({ name: 'shop' }, cli.ctx);
    const err = await createAppCommand({ name: 'shop' }, cli.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, message: 'server answered 409: App already exists' });
    expect((err as CliError).hint).toContain('fnts update app shop');
  });

  it('passes server validation errors through', async () => {
    const cli = server.cli();
    await expect(createAppCommand({ name: 'bad name' }, cli.ctx)).rejects.toMatchObject({ message: 'server answered 400: Invalid app name' });
    await expect(createAppCommand({ name: 'x', syslogUrl: 'http://nope' }, cli.ctx)).rejects.toMatchObject({ status: 400 });
  });

  it('rejects a --config entry without "="', async () => {
    const cli = server.cli();
    await expect(createAppCommand({ name: 'shop', config: ['NOEQUALS'] }, cli.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE',
      message: '--config "NOEQUALS" must look like KEY=VALUE',
    });
  });

  it('rejects an unknown --output format', async () => {
    const cli = server.cli();
    await expect(listAppsCommand({ output: 'yaml' }, cli.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE' });
  });

  it('says the server is unreachable, with a hint, when nothing listens', async () => {
    const cli = server.cli();
    cli.ctx.settings.apiUrl = 'http://127.0.0.1:1';
    await expect(listAppsCommand({}, cli.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_SERVER_UNREACHABLE' });
  });
});
