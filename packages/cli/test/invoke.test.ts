// `fnts invoke`: the content type (flag, then func.yaml here, then text/plain), --endpoint, --display-call-id,
// --output json, error responses, and the stdin limit. The endpoint is a small local HTTP server.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppCommand } from '../src/commands/apps/apps.js';
import { MAX_REQUEST_BYTES_CEILING } from '@fnts/api/limits';
import { invokeCommand, MAX_INVOKE_BODY, readBody } from '../src/commands/invoke/invoke.js';
import { captureContext, serverPerTest, tempDirPerTest } from './support/harness.js';

const dir = tempDirPerTest();
const api = serverPerTest();

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in for a function's invoke endpoint: records each request and answers as told. */
let seen: Seen[] = [];
let answer: { status: number; headers: Record<string, string>; body: string } = { status: 200, headers: {}, body: '' };
let endpoint = '';
let http: Server;

beforeEach(async () => {
  seen = [];
  answer = { status: 200, headers: { 'fn-call-id': '01CALL', 'content-type': 'application/json' }, body: '{"ok":true}' };
  http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/invoke/01FN`;
});

afterEach(() => new Promise<void>((r) => http.close(() => r())));

const cli = () => captureContext(api.url, dir.path);
const invoke = (opts: Partial<Parameters<typeof invokeCommand>[0]>, c = cli()) =>
  invokeCommand({ app: 'shop', fn: 'hello', endpoint, body: Buffer.from('{"name":"x"}'), ...opts }, c.ctx);

describe('invoke', () => {
  it('sends the body to --endpoint as text/plain by default and prints the response body', async () => {
    const c = cli();
    expect(await invoke({}, c)).toBe(0);
    expect(seen).toMatchObject([{ headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' }]);
    expect(c.stdout()).toBe('{"ok":true}\n');
  });

  it("takes the content type from this directory's func.yaml for that function, and --content-type over it", async () => {
    await writeFile(join(dir.path, 'func.yaml'), 'schema_version: 20180708\nname: hello\nversion: 0.0.1\nruntime: node\ncontent_type: application/json\n');
    await invoke({});
    await invoke({ fn: 'other' }); // another function's func.yaml does not apply
    await invoke({ contentType: 'application/x-custom' });
    expect(seen.map((s) => s.headers['content-type'])).toEqual(['application/json', 'text/plain', 'application/x-custom']);
  });

  it('prints the call id first with --display-call-id', async () => {
    const c = cli();
    await invoke({ displayCallId: true }, c);
    expect(c.stdout()).toBe('Call ID: 01CALL\n{"ok":true}\n');
  });

  it('prints status_code, headers and body as JSON with --output json', async () => {
    const c = cli();
    expect(await invoke({ output: 'json' }, c)).toBe(0);
    const printed = JSON.parse(c.stdout()) as { status_code: number; headers: Record<string, string>; body: string };
    expect(printed).toMatchObject({ status_code: 200, headers: { 'fn-call-id': '01CALL', 'content-type': 'application/json' }, body: '{"ok":true}' });

    answer = { status: 502, headers: { 'content-type': 'application/json' }, body: '{"message":"function failed"}' };
    const failed = cli();
    expect(await invoke({ output: 'json' }, failed)).toBe(1);
    expect(JSON.parse(failed.stdout())).toMatchObject({ status_code: 502, body: '{"message":"function failed"}' });
  });

  it("prints Fn's error line for an error status and returns a non-zero code", async () => {
    answer = { status: 504, headers: { 'content-type': 'application/json' }, body: '{"message":"Timed out"}' };
    const c = cli();
    expect(await invoke({}, c)).toBe(1);
    expect(c.stderr()).toBe('Error invoking function. status: 504 message: Timed out\n');
    expect(c.stdout()).toBe('');
  });

  it('looks the function up when there is no --endpoint, with a hint when it is missing', async () => {
    await createAppCommand({ name: 'shop' }, cli().ctx);
    await expect(invokeCommand({ app: 'shop', fn: 'ghost' }, cli().ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_NOT_FOUND', message: 'function "ghost" in app "shop" not found',
    });
    await expect(invokeCommand({ app: 'nope', fn: 'x' }, cli().ctx)).rejects.toMatchObject({ message: 'app "nope" not found' });
  });

  it('reads stdin up to the limit it is given and refuses more; by default, the most any server may take', async () => {
    expect((await readBody(Readable.from([Buffer.from('ab'), Buffer.from('c')]))).toString()).toBe('abc');
    await expect(readBody(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 10)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: 'the request body (stdin) is larger than 10 bytes',
    });
    expect(MAX_INVOKE_BODY).toBe(MAX_REQUEST_BYTES_CEILING);
  });
});
