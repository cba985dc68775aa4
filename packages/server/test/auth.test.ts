import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentedKey, requiredScope } from '../src/api/auth.js';
import { createApiKey, matchKey, parseKeysEnv, parseKeysFile } from '../src/auth/keys.js';
import { checkBindSafety, type ConfigError, loadConfig, UnsafeBindError } from '../src/config.js';
import { waitForListening } from '../../../test/support/server-output.js';
import { ContainerFixture, TEST_LABEL } from './support/fixtures.js';

/** API keys, trigger auth, the bind-address guard and TLS, against real server and CLI processes on loopback ports. */

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER_MAIN = resolve(HERE, '../dist/main.js');
const CLI_MAIN = resolve(HERE, '../../cli/dist/main.js');

/** Answers with the headers the function was given, so tests can see what reached it. */
const HEADERS_FUNC = `
import { handle } from '@fnts/fdk';
handle(async (_input: unknown, ctx) => ({ headers: Object.fromEntries(Object.entries(ctx.headers).map(([k, v]) => [k.toLowerCase(), v])) }));
`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with the path sent exactly as written (no URL normalisation), over HTTP or, with `ca`, HTTPS. */
function call(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Answer> {
  const url = new URL(base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveAnswer, reject) => {
    const req = send(
      { host: url.hostname, port: url.port, method, path, headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const json = (headers: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...headers });

interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `fnts-server` with `env` on a free loopback port; resolves once it prints its URL. */
async function startServer(fx: ContainerFixture, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      ...process.env,
      FNTS_HOST: '127.0.0.1',
      FNTS_PORT: '0',
      FNTS_DB: join(fx.work, `db-${Math.random().toString(36).slice(2)}.sqlite`),
      FNTS_CONTAINER_LABELS: `${TEST_LABEL}=${fx.run}`,
      FNTS_IOFS_DIR: join(fx.work, 'iofs'),
      FNTS_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = await waitForListening(child);
  return { url: server.url, child, output: server.output, stop: async () => void (await server.stop()) };
}

/** Runs a program to its end with `input` on stdin; resolves with its exit code and output. */
function run(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const fx = new ContainerFixture();
const admin = createApiKey('admin', 'test-admin');
const metricsKey = createApiKey('metrics');
// An operator-chosen key in FNTS_API_KEYS, as someone moving from Fn might reuse their FN_TOKEN.
const invokeKey = 'operator-chosen-invoke-key-42';
let image: string;
let server: ServerProcess;

beforeAll(async () => {
  await fx.setup();
  image = await fx.image('headers', HEADERS_FUNC);
  const keysFile = join(fx.work, 'keys');
  await writeFile(keysFile, `# keys for the test server\n${admin.line}\n\n${metricsKey.line}   # scraper\n`);
  server = await startServer(fx, { FNTS_API_KEYS_FILE: keysFile, FNTS_API_KEYS: `${invokeKey}:invoke` });
});
afterAll(async () => {
  await server?.stop();
  await fx.teardown();
});

describe('a server with API keys', () => {
  let fnId = '';
  let appName = '';

  beforeAll(async () => {
    appName = `auth-${fx.run}`;
    const app = JSON.parse((await call(server.url, 'POST', '/v2/apps', { headers: json(bearer(admin.key)), body: JSON.stringify({ name: appName }) })).body) as { id: string };
    const fn = await call(server.url, 'POST', '/v2/fns', { headers: json(bearer(admin.key)), body: JSON.stringify({ app_id: app.id, name: 'fn', image }) });
    expect(fn.status, fn.body).toBe(200);
    fnId = (JSON.parse(fn.body) as { id: string }).id;
    for (const [name, source, annotations] of [['open', '/open', {}], ['closed', '/closed', { 'fnts.io/auth': 'required' }], ['typo', '/typo', { 'fnts.io/auth': 'yes' }]] as const) {
      const t = await call(server.url, 'POST', '/v2/triggers', {
        headers: json(bearer(admin.key)),
        body: JSON.stringify({ app_id: app.id, fn_id: fnId, name, type: 'http', source, annotations }),
      });
      expect(t.status, t.body).toBe(200);
    }
  });

  it('answers / and /version without a key', async () => {
    expect((await call(server.url, 'GET', '/')).status).toBe(200);
    expect(JSON.parse((await call(server.url, 'GET', '/version')).body)).toHaveProperty('version');
  });

  it('answers 401 with a Bearer challenge when no key is sent, on the API, /invoke, /metrics and unknown paths', async () => {
    for (const [method, path] of [['GET', '/v2/apps'], ['POST', `/invoke/${fnId}`], ['GET', '/metrics'], ['GET', '/v2/openapi.json'], ['GET', '/no/such/path']]) {
      const res = await call(server.url, method!, path!);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="fnts"');
      expect(JSON.parse(res.body)).toMatchObject({ code: 'FNTS_ERR_AUTH_MISSING' });
    }
  });

  it('answers 401 for a wrong key, a malformed header and an unknown scheme', async () => {
    for (const authorization of [`Bearer ${admin.key}x`, 'Bearer ', 'Bearer', `Token ${admin.key}`, 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      const res = await call(server.url, 'GET', '/v2/apps', { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="fnts", error="invalid_token"');
      expect(JSON.parse(res.body)).toMatchObject({ code: 'FNTS_ERR_AUTH_INVALID' });
    }
  });

  it('takes an admin key as Bearer (what the Fn CLI sends for FN_TOKEN) and as the password or user of HTTP Basic', async () => {
    const basicPassword = `Basic ${Buffer.from(`anyone:${admin.key}`).toString('base64')}`;
    const basicUser = `Basic ${Buffer.from(`${admin.key}:`).toString('base64')}`;
    for (const authorization of [`Bearer ${admin.key}`, `bearer ${admin.key}`, basicPassword, basicUser]) {
      const res = await call(server.url, 'GET', '/v2/apps', { headers: { authorization } });
      expect(res.status, authorization).toBe(200);
      expect(res.body).toContain(appName);
    }
    expect((await call(server.url, 'GET', '/metrics', { headers: bearer(admin.key) })).status).toBe(200);
  });

  it('answers 403 when a key lacks the scope: invoke keys cannot manage, metrics keys can only scrape', async () => {
    const invokeOnV2 = await call(server.url, 'GET', '/v2/apps', { headers: bearer(invokeKey) });
    expect(invokeOnV2.status).toBe(403);
    expect(JSON.parse(invokeOnV2.body)).toMatchObject({ code: 'FNTS_ERR_AUTH_SCOPE' });
    expect((await call(server.url, 'GET', '/metrics', { headers: bearer(invokeKey) })).status).toBe(403);
    expect((await call(server.url, 'DELETE', `/v2/fns/${fnId}`, { headers: bearer(metricsKey.key) })).status).toBe(403);
    expect((await call(server.url, 'POST', `/invoke/${fnId}`, { headers: bearer(metricsKey.key) })).status).toBe(403);
    const scrape = await call(server.url, 'GET', '/metrics', { headers: bearer(metricsKey.key) });
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('# TYPE');
  });

  it('runs /invoke with an invoke or admin key, and the function never sees the key', async () => {
    for (const key of [invokeKey, admin.key]) {
      const res = await call(server.url, 'POST', `/invoke/${fnId}`, { headers: json(bearer(key)), body: '{}' });
      expect(res.status, res.body).toBe(200);
      const seen = (JSON.parse(res.body) as { headers: Record<string, unknown> }).headers;
      expect(seen).not.toHaveProperty('authorization');
      expect(JSON.stringify(seen)).not.toContain(key);
    }
  });

  it('keeps a trigger public by default, passing the client\'s own Authorization through to the function', async () => {
    const res = await call(server.url, 'GET', `/t/${appName}/open`, { headers: { authorization: 'Bearer the-function-checks-this' } });
    expect(res.status, res.body).toBe(200);
    // Trigger calls carry the end user's headers as Fn-Http-H-* (CONTRACT §2.1).
    expect((JSON.parse(res.body) as { headers: Record<string, unknown> }).headers['fn-http-h-authorization']).toEqual(['Bearer the-function-checks-this']);
  });

  it('requires a key on a trigger annotated fnts.io/auth: required (any value but "public" counts)', async () => {
    for (const source of ['closed', 'typo']) {
      const none = await call(server.url, 'GET', `/t/${appName}/${source}`);
      expect(none.status, none.body).toBe(401);
      expect(JSON.parse(none.body)).toMatchObject({ code: 'FNTS_ERR_AUTH_MISSING' });
      expect((await call(server.url, 'GET', `/t/${appName}/${source}`, { headers: bearer(metricsKey.key) })).status).toBe(403);
      const ok = await call(server.url, 'GET', `/t/${appName}/${source}`, { headers: { ...bearer(invokeKey), 'x-probe': 'forwarded' } });
      expect(ok.status, ok.body).toBe(200);
      const seen = JSON.stringify((JSON.parse(ok.body) as { headers: Record<string, unknown> }).headers);
      expect(seen).toContain('"fn-http-h-x-probe":["forwarded"]');
      expect(seen).not.toMatch(/authorization/i);
      expect(seen).not.toContain(invokeKey);
    }
  });

  it('gives nothing away through odd spellings of a path', async () => {
    for (const path of ['/t/../v2/apps', '/t/%2e%2e/v2/apps', '//v2/apps', '/v2/apps/', '/%76ersion/../v2/apps', '/version/../v2/apps', '/invoke/../v2/apps']) {
      const res = await call(server.url, 'GET', path);
      expect(res.status, `${path}: ${res.body}`).not.toBe(200);
      expect(res.body).not.toContain(appName);
    }
  });

  it('lets the CLI use a key from FNTS_API_KEY or from a context (file readable by its owner only, key masked when shown)', async () => {
    const home = join(fx.work, 'cli-home');
    const cli = (args: string[], env: Record<string, string> = {}, input = '') =>
      run([CLI_MAIN, ...args], { FNTS_HOME: home, FNTS_API_URL: '', FNTS_API_KEY: '', ...env }, input);
    const refused = await cli(['list', 'apps'], { FNTS_API_URL: server.url });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401');

    const viaEnv = await cli(['list', 'apps'], { FNTS_API_URL: server.url, FNTS_API_KEY: admin.key });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toContain(appName);

    expect((await cli(['create', 'context', 'keyed', '--api-url', server.url, '--api-key', admin.key])).code).toBe(0);
    expect((await cli(['use', 'context', 'keyed'])).code).toBe(0);
    expect(statSync(join(home, 'contexts', 'keyed.yaml')).mode & 0o777).toBe(0o600);
    const inspect = await cli(['inspect', 'context', 'keyed', 'api-key']);
    expect(inspect.stdout.trim()).toBe(`****${admin.key.slice(-4)}`);
    expect((await cli(['create', 'stream', `s-${fx.run}`])).code).toBe(0);
    const put = await cli(['stream', 'put', `s-${fx.run}`], {}, 'hello\n');
    expect(put.code, put.stderr).toBe(0);
    const tail = await cli(['stream', 'tail', `s-${fx.run}`, '--from-beginning', '--limit', '1']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toContain('hello');
    const invoked = await cli(['invoke', appName, 'fn']);
    expect(invoked.code, invoked.stderr).toBe(0);

    // An invoke-only key in the context can call but not manage.
    expect((await cli(['update', 'context', 'keyed', '--api-key', invokeKey])).code).toBe(0);
    expect((await cli(['invoke', appName, 'fn'])).stderr).toContain('403');
  });
});

describe('reading keys and requests (pure parts)', () => {
  it('reads FNTS_API_KEYS entries with an optional :scope suffix, keeping other colons in the key', () => {
    const problems: string[] = [];
    const entries = parseKeysEnv('first-key-0123456789, second:key:0123456789:invoke\nthird-key-0123456789:metrics', problems);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.scope)).toEqual(['admin', 'invoke', 'metrics']);
    expect(matchKey(entries, 'second:key:0123456789')?.scope).toBe('invoke');
    expect(matchKey(entries, 'second:key:0123456789:invoke')).toBeUndefined();
  });

  it('reads a keys file with comments, names and the default scope', () => {
    const a = createApiKey('invoke', 'web');
    const b = createApiKey();
    const problems: string[] = [];
    const entries = parseKeysFile(`# header\n${a.line}  # the web tier\n\n${b.line.replace(' admin', '')}\n`, problems);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.scope, e.label])).toEqual([['invoke', 'web'], ['admin', 'keys file line 4']]);
    expect(matchKey(entries, a.key)?.label).toBe('web');
    expect(matchKey(entries, b.key)?.scope).toBe('admin');
    expect(matchKey(entries, `${a.key}x`)).toBeUndefined();
  });

  it('classifies paths before routing, needing admin for anything not known to be open', () => {
    expect(['/', '/version', '/version?x=1', '/t/app/x'].map(requiredScope)).toEqual(['public', 'public', 'public', 'public']);
    expect(['/invoke/01ABC', '/metrics', '/v2/apps', '/t', '/versions', '/metrics/'].map(requiredScope))
      .toEqual(['invoke', 'metrics', 'admin', 'admin', 'admin', 'admin']);
    // The console's files are code without data; the API they call needs the key.
    expect(['/ui', '/ui/', '/ui/app-ABC.js', '/uix', '/ui%2F', '/v2/ui'].map(requiredScope))
      .toEqual(['public', 'public', 'public', 'admin', 'admin', 'admin']);
  });

  it('takes the key from Bearer or Basic (password, else user), and nothing from other schemes', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(presentedKey(undefined)).toBeUndefined();
    expect(presentedKey('Bearer abc')).toBe('abc');
    expect(presentedKey('BEARER  abc ')).toBe('abc');
    expect(presentedKey(basic('user:pa:ss'))).toBe('pa:ss');
    expect(presentedKey(basic('key-as-user:'))).toBe('key-as-user');
    expect(presentedKey('Digest abc')).toBe('');
  });
});

describe('the bind address', () => {
  it('refuses to start on a non-loopback address without keys: one line, exit 1, nothing listening', async () => {
    const env = { FNTS_HOST: '0.0.0.0', FNTS_PORT: '0', FNTS_DB: ':memory:', FNTS_API_KEYS: '', FNTS_API_KEYS_FILE: '', FNTS_INSECURE_NO_AUTH: '' };
    for (const args of [[SERVER_MAIN], [CLI_MAIN, 'start', '--host', '0.0.0.0', '--port', '0', '--db', ':memory:']]) {
      const res = await run(args, env);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout).not.toContain('listening');
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys.*--insecure-no-auth/);
    }
  });

  it('allows loopback without keys, and other addresses with keys or the explicit flag', () => {
    const base = { FNTS_DB: ':memory:' };
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1']) expect(() => checkBindSafety(loadConfig({ ...base, FNTS_HOST: host }))).not.toThrow();
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.internal']) {
      expect(() => checkBindSafety(loadConfig({ ...base, FNTS_HOST: host }))).toThrow(UnsafeBindError);
      expect(() => checkBindSafety(loadConfig({ ...base, FNTS_HOST: host, FNTS_INSECURE_NO_AUTH: 'true' }))).not.toThrow();
      expect(() => checkBindSafety(loadConfig({ ...base, FNTS_HOST: host, FNTS_API_KEYS: invokeKey }))).not.toThrow();
    }
  });

  it('rejects plain keys in the keys file, unknown scopes, short keys and half a TLS pair', async () => {
    const file = join(fx.work, 'bad-keys');
    await writeFile(file, `${admin.key}\nsha256:${'a'.repeat(64)} root\n`);
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ FNTS_DB: ':memory:', ...env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ FNTS_API_KEYS_FILE: file })).toEqual([
      expect.stringMatching(/line 1: expected "sha256:<64 hex digits> \[scope\] \[name\]".*not a plain key/),
      expect.stringMatching(/line 2: scope "root" must be one of admin, invoke, metrics/),
    ]);
    expect(problems({ FNTS_API_KEYS: 'short' })).toEqual([expect.stringMatching(/at least 16/)]);
    expect(problems({ FNTS_TLS_CERT: file })).toEqual([expect.stringMatching(/go together/)]);
  });
});

describe('TLS', () => {
  let tls: ServerProcess;
  let ca = '';

  beforeAll(async () => {
    const cert = join(fx.work, 'cert.pem');
    const key = join(fx.work, 'key.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ]);
    ca = await readFile(cert, 'utf8');
    tls = await startServer(fx, { FNTS_TLS_CERT: cert, FNTS_TLS_KEY: key, FNTS_API_KEYS: `${invokeKey},${admin.key}` });
  });
  afterAll(() => tls?.stop());

  it('serves HTTPS with the given certificate, keys and all, and refuses plain HTTP', async () => {
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(tls.url, 'GET', '/version', { ca })).status).toBe(200);
    expect((await call(tls.url, 'GET', '/v2/apps', { ca })).status).toBe(401);
    expect((await call(tls.url, 'GET', '/v2/apps', { ca, headers: bearer(admin.key) })).status).toBe(200);
    await expect(call(tls.url.replace('https:', 'http:'), 'GET', '/version')).rejects.toThrow();
  });
});
