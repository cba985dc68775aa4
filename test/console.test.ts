import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, runId, startServerProcess, tempDir, useServerProcess, type ServerProcess } from './support/harness.js';

/**
 * The web console at /ui in a real browser: Debian's headless Chromium driven by playwright-core (nothing downloaded),
 * against a real server process with a real function in Docker. Any error the page logs fails the test.
 * FNTS_CONSOLE_SCREENSHOTS=<dir> also saves the pages as PNGs (scripts/console-screenshots.sh: docs/console/).
 */

const CHROMIUM = process.env.FNTS_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.FNTS_CONSOLE_SCREENSHOTS ? resolve(process.env.FNTS_CONSOLE_SCREENSHOTS) : undefined;

/** Greets on a call; takes a stream batch slowly enough (120 ms) that lag can be seen to fall. */
const FUNC = `import { handle } from '@fnts/fdk';

handle(async (input: any) => {
  if (input && input.batch) {
    console.log('BATCH ' + input.batch.firstOffset + '-' + input.batch.lastOffset);
    await new Promise((r) => setTimeout(r, 120));
    return { failures: [] };
  }
  const name = (input && input.name) || 'nobody';
  console.log('HELLO ' + name);
  return { greeting: 'hello ' + name };
});
`;

/**
 * Chromium on this network: no first-run, sync or update traffic, and a fresh profile (playwright-core takes the
 * profile as launchPersistentContext's folder, not as --user-data-dir). Every console error and uncaught exception is
 * recorded, and every confirmation dialog is accepted.
 */
async function openBrowser(profileDir: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('dialog', (d) => void d.accept());
  return { context, page, problems };
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A GET with the path sent exactly as written: URL classes would resolve `..` before it leaves. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolveAnswer, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function api<T>(server: ServerProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(`${server.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.body.text();
  expect(res.statusCode, `${method} ${path}: ${text}`).toBeLessThan(300);
  return JSON.parse(text) as T;
}

describe('the web console in Chromium', () => {
  const ctx = useServerProcess();
  let browser: { context: BrowserContext; page: Page; problems: string[] } | undefined;

  beforeAll(async () => {
    browser = await openBrowser(join(ctx.dir, 'chromium-profile'));
  });
  afterAll(async () => {
    await browser?.context.close();
  });

  it('shows the function, invokes it, shows the call and its output, and pauses and resumes a stream trigger as lag rises and falls', async () => {
    const { page, problems } = browser as NonNullable<typeof browser>;
    const server = ctx.server;
    const fnDir = join(ctx.dir, 'greeter');
    await mkdir(fnDir);
    await writeFile(join(fnDir, 'func.yaml'), 'schema_version: 20180708\nname: greeter\nversion: 0.0.3\nruntime: typescript\n');
    await writeFile(join(fnDir, 'func.ts'), FUNC);
    // The function's types are not what this test is about: the type check would be a third of its time.
    const deploy = await runCli(['deploy', '--app', 'shop', '--create-app', '--no-typecheck'], { cwd: fnDir, env: ctx.env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const app = (await api<{ items: { id: string }[] }>(server, 'GET', '/v2/apps?name=shop')).items[0];
    const fn = (await api<{ items: { id: string }[] }>(server, 'GET', `/v2/fns?app_id=${app?.id}&name=greeter`)).items[0];
    await api(server, 'POST', '/v2/streams', { name: 'orders', partitions: 2 });
    await api(server, 'POST', '/v2/triggers', {
      name: 'orders-in', app_id: app?.id, fn_id: fn?.id, type: 'stream', source: 'orders',
      options: { batch_size: 4, start_position: 'latest', value_encoding: 'utf8' },
    });
    await api(server, 'POST', '/v2/triggers', { name: 'greet', app_id: app?.id, fn_id: fn?.id, type: 'http', source: '/greet' });

    // The apps page lists the function; its link opens the function's page.
    await page.goto(`${server.url}/ui/`);
    await page.getByRole('heading', { name: 'App shop' }).waitFor();
    await page.getByRole('link', { name: 'greeter' }).click();
    await page.getByRole('heading', { name: /Function greeter/ }).waitFor();

    // Invoke from the page: the answer, then the call in the list with its output, and the output live.
    await page.getByLabel('Body').fill('{"name": "console"}');
    await page.getByRole('button', { name: 'Invoke' }).click();
    await expect.poll(() => page.getByTestId('invoke-answer').textContent()).toContain('hello console');
    await expect.poll(() => page.getByTestId('live-output').textContent()).toContain('HELLO console');
    const row = page.locator('tr[data-call]').first();
    await expect.poll(() => row.textContent()).toContain('success');
    await row.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByTestId('call-output').textContent()).toContain('HELLO console');
    for (const name of ['ada', 'grace', 'edsger']) {
      await request(`${server.url}/invoke/${fn?.id}`, { method: 'POST', body: JSON.stringify({ name }) }).then((r) => r.body.text());
    }
    await shot(page, 'function');

    // Streams: pause from the page, write records, see lag rise; resume, see it fall to zero.
    await page.getByRole('link', { name: 'Streams' }).click();
    const card = page.getByTestId('trigger-orders-in');
    await card.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => card.getByTestId('trigger-state').textContent()).toBe('paused');
    await api(server, 'POST', '/v2/streams/orders/messages', {
      messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `order-${i}` })),
    });
    const lag = async () => {
      const cells = await page.locator('[data-testid^="lag-"]').allTextContents();
      return cells.reduce((n, c) => n + Number(c), 0);
    };
    await expect.poll(lag, { timeout: 10_000 }).toBe(40);
    await card.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => card.getByTestId('trigger-state').textContent()).toBe('running');
    await expect.poll(lag, { timeout: 30_000 }).toBe(0);
    expect((await api<{ partitions: { committed: number; end: number }[] }>(server, 'GET', '/v2/triggers/' +
      (await api<{ items: { id: string; name: string }[] }>(server, 'GET', `/v2/triggers?app_id=${app?.id}&name=orders-in`)).items[0]?.id +
      '/status')).partitions.every((p) => p.committed === p.end)).toBe(true);
    await shot(page, 'streams');

    // The other pages render what the API and /metrics say.
    await page.getByRole('link', { name: 'Functions' }).click();
    await page.getByRole('heading', { name: 'App shop' }).waitFor();
    await expect.poll(() => page.getByText(/calls: \d+ in the hour/).first().textContent()).toMatch(/calls: [1-9]\d* in the hour/);
    // The function has run here, so it has live containers (hot or idle, as /metrics counts them).
    await expect.poll(() => page.getByText(/\d+ hot · \d+ idle/).first().textContent()).toMatch(/^(?!0 hot · 0 idle)\d+ hot · \d+ idle$/);
    await shot(page, 'functions');
    await page.getByRole('link', { name: 'Triggers' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain(`${server.url}/t/shop/greet`);
    await shot(page, 'triggers');
    await page.getByRole('link', { name: 'Server' }).click();
    const version = (await api<{ version: string }>(server, 'GET', '/version')).version;
    await expect.poll(() => page.getByTestId('server-version').textContent()).toBe(version);
    await shot(page, 'server');

    // A phone's width: the function's page still fits, with nothing wider than the screen but the scrolling tables.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/ui/#/fns/${fn?.id}`);
    await page.getByRole('heading', { name: /Function greeter/ }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(page, 'phone-function');

    expect(problems).toEqual([]);
  });
});

describe('the console\'s files', () => {
  const label = runId();
  const key = 'fnts_console_test_key_0123456789abcdef';
  let dir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dir = await tempDir('fnts-console-');
    server = await startServerProcess({ dir, label, env: { FNTS_API_KEYS: key } });
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup(label, dir);
  });

  it('are served without a key, with their types and cache rules, while the API behind them needs the key', async () => {
    const index = await request(`${server.url}/ui/`);
    const html = await index.body.text();
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(String(index.headers['content-security-policy'])).toContain("script-src 'self'");
    const script = /src="\/ui\/(app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await request(`${server.url}/ui/${script}`);
    await js.body.text();
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await request(`${server.url}/ui/${script}`, { headers: { 'if-none-match': String(js.headers.etag) } });
    await again.body.text();
    expect(again.statusCode).toBe(304);
    const redirect = await request(`${server.url}/ui`);
    await redirect.body.text();
    expect([redirect.statusCode, redirect.headers.location]).toEqual([301, '/ui/']);
    // Only the built files exist: no path reaches the file system, and /ui/ is no way around the key.
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/index.html/..', '/ui/../v2/apps',
      '/ui/./index.html', '/ui//etc/passwd', '/ui/%2fetc%2fpasswd']) {
      const res = await rawGet(server.url, path);
      expect([404, 401], `${path}: ${res.status} ${res.body}`).toContain(res.status);
      expect(res.body).not.toMatch(/"name"|root:|<html/);
    }
    const apps = await request(`${server.url}/v2/apps`);
    await apps.body.text();
    expect(apps.statusCode).toBe(401);
    // The server page's memory budget is in /metrics beside what containers reserve.
    const metrics = await (await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).body.text();
    expect(Number(/^fnts_memory_budget_mib (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^fnts_memory_reserved_mib 0$/m);
  });

  it('asks for the key in the page and then shows the server', async () => {
    const { context, page, problems } = await openBrowser(join(dir, 'chromium-profile'));
    try {
      await page.goto(`${server.url}/ui/#/server`);
      await page.getByLabel('Key').fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
      const version = (await request(`${server.url}/version`).then((r) => r.body.json())) as { version: string };
      await expect.poll(() => page.getByTestId('server-version').textContent()).toBe(version.version);
      // The only errors: the browser's own notes of the answers that asked for the key.
      expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

