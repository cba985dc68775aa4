// `fnts deploy` against a real in-process server and real Docker builds: the func.yaml fields it sends, --prune,
// the version bumped only after a successful build and push, push failures, --local, --all with app.yaml, JSON output.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/client.js';
import { buildCommand } from '../src/commands/build/build.js';
import { deployCommand } from '../src/commands/deploy/deploy.js';
import { CliError } from '../src/errors.js';
import { docker, imagesPerFile } from './support/docker.js';
import { serverPerTest, tempDirPerTest, type Captured } from './support/harness.js';

const server = serverPerTest();
const tmp = tempDirPerTest();
const { run, labels } = imagesPerFile();

async function fnDir(sub: string, funcYaml: string[], source = 'export {};\n'): Promise<string> {
  const dir = join(tmp.path, sub);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'func.yaml'), [...funcYaml, ''].join('\n'));
  await writeFile(join(dir, 'func.ts'), source);
  return dir;
}

const head = (name: string, version = '0.0.1') => ['schema_version: 20180708', `name: ${name}`, `version: ${version}`, 'runtime: typescript'];

function cli(cwd: string, registry?: string): Captured {
  return server.cli(cwd, { imageLabels: labels, ...(registry ? { registry } : {}) });
}

const client = () => new ApiClient(server.url);

async function serverFn(app: string, name: string) {
  const a = await client().findApp(app);
  return a && client().findFn(a.id, name);
}

describe('deploy', () => {
  it("sends func.yaml's settings, bumps the version keeping the file's comments, and prints a summary", async () => {
    const name = `dep-all-${run}`;
    const dir = await fnDir('f', [
      ...head(name), '# limits', 'memory: 256', 'timeout: 60', 'idle_timeout: 120', 'max_containers: 3', 'concurrency: 4',
      'config:', '  GREETING: hi', 'annotations:', '  team: payments',
      'triggers:', '  - {name: web, type: http, source: /web}',
    ]);
    const c = cli(dir);
    const result = await deployCommand({ app: 'shop', createApp: true }, c.ctx);
    expect(result.functions[0]?.version).toBe('0.0.2');
    expect(await serverFn('shop', name)).toMatchObject({
      image: `shop/${name}:0.0.2`, memory: 256, timeout: 60, idle_timeout: 120, max_containers: 3, concurrency: 4,
      config: { GREETING: 'hi' }, annotations: { team: 'payments' },
    });
    const text = await readFile(join(dir, 'func.yaml'), 'utf8');
    expect(text).toContain('version: 0.0.2\nruntime: typescript\n# limits\n');
    expect(c.stderr()).toMatch(new RegExp(`Deployed ${name} 0\\.0\\.2 to app shop: image shop/${name}:0\\.0\\.2 \\(function layer [\\d.]+ (B|KiB)\\), endpoint ${server.url}/invoke/\\w+\\n`));
    expect(c.stderr()).toContain(`Trigger web (http /web): ${server.url}/t/shop/web`);
  });

  it('with --prune removes the config keys and triggers that left func.yaml, and says what it removed', async () => {
    const name = `dep-prune-${run}`;
    const trig = (n: string) => `  - {name: ${n}, type: http, source: /${n}}`;
    const dir = await fnDir('f', [...head(name), 'config:', '  KEEP: "1"', '  DROP: "2"', 'triggers:', trig('t1'), trig('t2')]);
    await deployCommand({ app: 'shop', createApp: true }, cli(dir).ctx);

    await writeFile(join(dir, 'func.yaml'), [...head(name, '0.0.2'), 'config:', '  KEEP: "1"', 'triggers:', trig('t1'), ''].join('\n'));
    const plain = cli(dir);
    await deployCommand({ app: 'shop' }, plain.ctx);
    expect(plain.stderr()).toContain('Note: config key DROP is on the server but not in func.yaml; `fnts deploy --prune` removes it');
    expect(plain.stderr()).toMatch(/Note: trigger t2 \(.*\/t\/shop\/t2\) is on the server but not in func\.yaml/);
    expect((await serverFn('shop', name))?.config).toEqual({ KEEP: '1', DROP: '2' });

    const pruning = cli(dir);
    const result = await deployCommand({ app: 'shop', prune: true }, pruning.ctx);
    expect(pruning.stderr()).toContain('Removed config key DROP (not in func.yaml)\n');
    expect(pruning.stderr()).toContain('Removed trigger t2 (http /t2, not in func.yaml)\n');
    expect(result.functions[0]?.pruned).toEqual({ config: ['DROP'], triggers: ['t2'] });
    const fn = await serverFn('shop', name);
    expect(fn?.config).toEqual({ KEEP: '1' });
    const app = await client().findApp('shop');
    expect((await client().listTriggers({ appId: app?.id ?? '', fnId: fn?.id ?? '' })).map((t) => t.name)).toEqual(['t1']);
  });

  it('creates a func.yaml stream trigger with its options, and --prune removes it once it left func.yaml', async () => {
    const name = `dep-stream-${run}`;
    await client().createStream({ name: 'orders', partitions: 2 });
    const web = '  - {name: web, type: http, source: /web}';
    const dir = await fnDir('f', [
      ...head(name), 'triggers:', '  - name: feed', '    type: stream', '    source: orders',
      '    options: {batch_size: 25, start_position: earliest}', web,
    ]);
    const c = cli(dir);
    const result = await deployCommand({ app: 'shop', createApp: true, output: 'json' }, c.ctx);
    expect(c.stderr()).toContain(`Trigger feed (stream orders): dead letters to shop.${name}.feed.dlq; watch it with \`fnts trigger status shop ${name} feed\`\n`);
    const feed = result.functions[0]?.triggers.find((t) => t.name === 'feed');
    expect(feed).toMatchObject({ type: 'stream', source: 'orders', options: { batch_size: 25, start_position: 'earliest' } });
    expect((JSON.parse(c.stdout()) as { functions: { triggers: unknown[] }[] }).functions[0]?.triggers).toContainEqual({
      name: 'feed', type: 'stream', source: 'orders', endpoint: '', options: expect.objectContaining({ batch_size: 25 }),
    });
    expect(await client().triggerStatus(feed?.id ?? '')).toMatchObject({ source: { type: 'embedded', stream: 'orders' }, paused: false });

    await writeFile(join(dir, 'func.yaml'), [...head(name, '0.0.2'), 'triggers:', web, ''].join('\n'));
    const pruning = cli(dir);
    await deployCommand({ app: 'shop', prune: true, bump: false }, pruning.ctx);
    expect(pruning.stderr()).toContain('Removed trigger feed (stream orders, not in func.yaml)\n');
    const app = await client().findApp('shop');
    expect((await client().listTriggers({ appId: app?.id ?? '' })).map((t) => t.name)).toEqual(['web']);
  });

  it('leaves func.yaml and the server alone when the build fails', async () => {
    const dir = await fnDir('f', head(`dep-broken-${run}`), 'export const x = ;\n');
    const before = await readFile(join(dir, 'func.yaml'), 'utf8');
    // Without the type check, which would stop it first (typecheck.test.ts), so the bundler's failure is the one seen.
    await expect(deployCommand({ app: 'shop', createApp: true, typecheck: false }, cli(dir).ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_BUILD' });
    expect(await readFile(join(dir, 'func.yaml'), 'utf8')).toBe(before);
    expect(await client().findApp('shop')).toBeUndefined(); // --create-app creates it only once a build succeeded
  });

  it('fails a push to an unreachable registry with one line and a hint, without bumping func.yaml', async () => {
    const name = `dep-push-${run}`;
    const dir = await fnDir('f', head(name));
    const before = await readFile(join(dir, 'func.yaml'), 'utf8');
    const err = await deployCommand({ app: 'shop', createApp: true }, cli(dir, '127.0.0.1:1').ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'FNTS_ERR_PUSH', exitCode: 1 });
    expect((err as CliError).message).toMatch(new RegExp(`^could not push 127\\.0\\.0\\.1:1/shop/${name}:0\\.0\\.2: .*127\\.0\\.0\\.1:1`));
    expect((err as CliError).message).not.toContain('\n');
    expect((err as CliError).hint).toContain('--local');
    expect(await readFile(join(dir, 'func.yaml'), 'utf8')).toBe(before);
    expect(await serverFn('shop', name)).toBeFalsy();
  });

  it('with --local builds <registry>/<app>/<name>:<version> and keeps it on this engine without pushing', async () => {
    const name = `dep-local-${run}`;
    const dir = await fnDir('f', head(name));
    const c = cli(dir, '127.0.0.1:1/team');
    const result = await deployCommand({ app: 'shop', createApp: true, local: true }, c.ctx);
    expect(result.functions[0]).toMatchObject({ image: `127.0.0.1:1/team/shop/${name}:0.0.2`, pushed: false });
    expect(c.stderr()).not.toContain('pushing');
    await expect(docker.getImage(`127.0.0.1:1/team/shop/${name}:0.0.2`).inspect()).resolves.toBeDefined();
    expect((await serverFn('shop', name))?.image).toBe(`127.0.0.1:1/team/shop/${name}:0.0.2`);
  });

  it('gives same-named functions of two apps their own images, so the second deploy leaves the first one running its own', async () => {
    const name = `dep-same-${run}`;
    const a = await fnDir('a', head(name), "export default () => 'from shop';\n");
    const b = await fnDir('b', head(name), "export default () => 'from store';\n");
    const first = await deployCommand({ app: 'shop', createApp: true }, cli(a).ctx);
    const second = await deployCommand({ app: 'store', createApp: true }, cli(b).ctx);
    expect([first.functions[0]?.image, second.functions[0]?.image]).toEqual([`shop/${name}:0.0.2`, `store/${name}:0.0.2`]);
    expect((await serverFn('shop', name))?.image).toBe(`shop/${name}:0.0.2`);
    const [imageA, imageB] = await Promise.all([`shop/${name}:0.0.2`, `store/${name}:0.0.2`].map((i) => docker.getImage(i).inspect()));
    expect(imageA?.Id).not.toBe(imageB?.Id);
    expect(imageA?.Config.Labels).toMatchObject({ 'fnts.app': 'shop', 'fnts.function': name });
  });

  it('names an app whose name Docker does not accept as an image path by a lowercase form and a hash', async () => {
    const name = `dep-upper-${run}`;
    const result = await deployCommand({ app: 'Shop', createApp: true }, cli(await fnDir('f', head(name))).ctx);
    expect(result.functions[0]?.image).toMatch(new RegExp(`^shop\\.[0-9a-f]{8}/${name}:0\\.0\\.2$`));
  });

  it('fnts build names the image as deploy does for --app or app.yaml, and <name>:<version> outside any app', async () => {
    const name = `build-names-${run}`;
    const dir = await fnDir('f', head(name));
    expect((await buildCommand({}, cli(dir).ctx)).image).toBe(`${name}:0.0.1`);
    expect((await buildCommand({ app: 'shop' }, cli(dir).ctx)).image).toBe(`shop/${name}:0.0.1`);
    await writeFile(join(dir, 'app.yaml'), 'name: store\n');
    expect((await buildCommand({}, cli(dir).ctx)).image).toBe(`store/${name}:0.0.1`);
  });

  it('prints what it deployed as JSON with --output json', async () => {
    const name = `dep-json-${run}`;
    const dir = await fnDir('f', [...head(name), 'triggers:', '  - {name: web, type: http, source: web}']);
    const c = cli(dir);
    await deployCommand({ app: 'shop', createApp: true, output: 'json' }, c.ctx);
    const fn = await serverFn('shop', name);
    expect(JSON.parse(c.stdout())).toEqual({
      app: 'shop',
      functions: [{
        name, id: fn?.id, version: '0.0.2', image: `shop/${name}:0.0.2`, pushed: false, layer_bytes: expect.any(Number),
        invoke_endpoint: `${server.url}/invoke/${fn?.id}`,
        triggers: [{ name: 'web', type: 'http', source: '/web', endpoint: `${server.url}/t/shop/web` }],
        pruned: { config: [], triggers: [] },
      }],
    });
  });
});

describe('deploy --all', () => {
  it("deploys every function dir below app.yaml's directory into the app it describes", async () => {
    await writeFile(join(tmp.path, 'app.yaml'), ['name: store', 'config:', '  DB: postgres://db', 'annotations:', '  owner: ops', 'syslog_url: tcp://logs:514', ''].join('\n'));
    await fnDir('a', head(`all-a-${run}`));
    await fnDir('group/b', head(`all-b-${run}`));
    await fnDir('node_modules/x', head(`all-skipped-${run}`)); // never a function dir
    const c = cli(tmp.path);
    const result = await deployCommand({ all: true, createApp: true }, c.ctx);
    expect(result.functions.map((f) => f.fn.name)).toEqual([`all-a-${run}`, `all-b-${run}`]);
    expect(await client().findApp('store')).toMatchObject({
      config: { DB: 'postgres://db' }, annotations: { owner: 'ops' }, syslog_url: 'tcp://logs:514',
    });
    expect(c.stderr()).toContain('Deployed 2 functions to app store\n');
    expect(await readFile(join(tmp.path, 'group/b/func.yaml'), 'utf8')).toContain('version: 0.0.2');
  });

  it('needs app.yaml, and checks every func.yaml before building anything', async () => {
    await fnDir('a', head(`all-c-${run}`));
    await expect(deployCommand({ all: true, app: 'store' }, cli(tmp.path).ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: `deploy --all needs an app.yaml in ${tmp.path}`,
    });
    await writeFile(join(tmp.path, 'app.yaml'), 'name: store\n');
    await fnDir('b', [...head(`all-d-${run}`), 'memory: 0']);
    await expect(deployCommand({ all: true, createApp: true }, cli(tmp.path).ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_FUNCFILE_INVALID' });
    expect(await client().findApp('store')).toBeUndefined();
    expect(await readFile(join(tmp.path, 'a/func.yaml'), 'utf8')).toContain('version: 0.0.1');
  });
});
