// Conformance of the FDK over a real unix socket: transport (CONTRACT §1.5) and
// the request/response rules (§2.1–2.2).
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { WARMUP_PATH } from '@fnts/api/contract';
import { rawResult, type Context } from '../src/index.js';
import { harnessPerTest, sleep } from './support/socket-harness.js';

const start = harnessPerTest();

describe('requests', () => {
  it('echoes JSON input as JSON in json mode', async () => {
    const h = await start((input: unknown) => ({ echo: input }));
    const res = await h.call({ headers: { 'Content-Type': 'application/json' }, body: '{"name":"Tom"}' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({ echo: { name: 'Tom' } });
  });

  it('passes the raw string in json mode when the body is not JSON, and "" for an empty body', async () => {
    const h = await start((input: unknown) => ({ input }));
    expect(JSON.parse((await h.call({ body: 'not json' })).text)).toEqual({ input: 'not json' });
    expect(JSON.parse((await h.call({ body: '' })).text)).toEqual({ input: '' });
  });

  it('passes a string in string mode', async () => {
    const h = await start((input: string) => `${typeof input}:${input}`, {}, { inputMode: 'string' });
    const res = await h.call({ body: '{"a":1}' });
    expect(res.text).toBe('"string:{\\"a\\":1}"');
  });

  it('passes a Buffer in buffer mode and writes a returned Buffer as-is', async () => {
    const h = await start((input: Buffer) => Buffer.concat([Buffer.from([Buffer.isBuffer(input) ? 1 : 0]), input]), {}, {
      inputMode: 'buffer',
    });
    const res = await h.call({ body: Buffer.from([0xff, 0x00, 0x80]) });
    expect([...res.body]).toEqual([1, 0xff, 0x00, 0x80]);
  });

  it('decodes a multi-byte UTF-8 character split across two chunks', async () => {
    const h = await start((input: string) => input, {}, { inputMode: 'string' });
    const bytes = Buffer.from('añ€😀z', 'utf8');
    const res = await h.call({ chunks: [bytes.subarray(0, 5), bytes.subarray(5)] }); // splits inside '€'
    expect(JSON.parse(res.text)).toBe('añ€😀z');
  });

  it('decodes JSON whose multi-byte characters are split across chunks', async () => {
    const h = await start((input: { text: string }) => ({ got: input.text }));
    const bytes = Buffer.from('{"text":"😀€"}', 'utf8');
    const res = await h.call({ chunks: [bytes.subarray(0, 11), bytes.subarray(11, 14), bytes.subarray(14)] }); // inside both
    expect(JSON.parse(res.text)).toEqual({ got: '😀€' });
  });

  it('round-trips a 5 MB body', async () => {
    const h = await start((input: Buffer) => input, {}, { inputMode: 'buffer' });
    const payload = randomBytes(5 * 1024 * 1024);
    const res = await h.call({ body: payload });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(payload.length);
    expect(res.body.equals(payload)).toBe(true);
  });

  it('answers anything but POST /call with 400 and the fdk-node body', async () => {
    const h = await start(() => 'never');
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const [method, path] of [['GET', '/call'], ['POST', '/other'], ['PUT', '/call']] as const) {
      const res = await h.call({ method, path, body: method === 'GET' ? undefined : 'x' });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual({ message: 'Invalid method', detail: 'Bad request' });
    }
  });
});

describe('warm-up calls', () => {
  it('answers POST /.fnts-warmup with the FDK\'s own handler, never the function, in turn sync and async', async () => {
    const fn = vi.fn(() => 'real');
    const h = await start(fn);
    const deadline = new Date(Date.now() + 30_000).toISOString();
    for (let i = 0; i < 4; i++) {
      const res = await h.call({
        path: WARMUP_PATH, headers: { 'content-type': 'application/json', 'fn-call-id': `warm-up-${i}`, 'fn-deadline': deadline },
        body: '{"warm-up":true}',
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ warm: true });
      expect(res.headers['fn-fdk-version']).toMatch(/^fnts-fdk\//);
    }
    expect(fn).not.toHaveBeenCalled();
    expect((await h.call({ body: '{}' })).text).toBe('"real"');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('responses', () => {
  it('sends the FDK identity headers on every answer', async () => {
    const h = await start(() => {
      throw new Error('x');
    });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const res of [await h.call({ body: '' }), await h.call({ method: 'GET' })]) {
      expect(res.headers['fn-fdk-version']).toBe(`fnts-fdk/0.1.0 (njsv=${process.version})`);
      expect(res.headers['fn-fdk-runtime']).toBe(`node/${process.version.slice(1)}`);
    }
  });

  it('writes undefined and null as an empty 200 body', async () => {
    const results: unknown[] = [undefined, null];
    const h = await start(() => results.shift());
    for (let i = 0; i < 2; i++) {
      const res = await h.call({ body: '' });
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(0);
      expect(res.headers['content-length']).toBe('0');
    }
  });

  it('quotes a string under JSON and writes numbers as text under text/plain', async () => {
    const h = await start((input: { type: string; value: unknown }, ctx: Context) => {
      ctx.responseContentType = input.type;
      return input.value;
    });
    const cases = [
      ['application/json', 'done', '"done"'],
      ['text/plain', 'done', 'done'],
      ['text/plain', 42, '42'],
      ['text/plain', true, 'true'],
      ['text/plain', { a: 1 }, '{"a":1}'],
      ['application/problem+json', { a: 1 }, '{"a":1}'],
    ] as const;
    for (const [type, value, expected] of cases) {
      const res = await h.call({ body: JSON.stringify({ type, value }) });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.text).toBe(expected);
    }
  });

  it('writes rawResult, typed arrays and ArrayBuffers byte-for-byte under any content type', async () => {
    const results: unknown[] = [
      rawResult('{"not":"re-encoded"}'),
      rawResult(new Uint8Array([0xc3, 0xa9])),
      new Uint16Array([0x0201]),
      new Uint8Array([1, 2, 3]).buffer,
    ];
    const h = await start((_input: unknown, ctx: Context) => {
      ctx.responseContentType = results.length % 2 === 0 ? 'application/json' : 'application/octet-stream';
      return results.shift();
    });
    expect((await h.call({ body: '' })).text).toBe('{"not":"re-encoded"}');
    expect((await h.call({ body: '' })).text).toBe('é');
    expect([...(await h.call({ body: '' })).body]).toEqual([1, 2]);
    expect([...(await h.call({ body: '' })).body]).toEqual([1, 2, 3]);
  });

  it('answers 502 with the fdk-node body when the function throws or rejects, and keeps serving', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start(async (input: string) => {
      if (input === 'throw') throw new TypeError('bad input');
      if (input === 'reject') return Promise.reject(new Error('went wrong'));
      return 'fine';
    });
    const thrown = await h.call({ body: 'throw' });
    expect(thrown.status).toBe(502);
    expect(thrown.headers['content-type']).toBe('application/json');
    expect(JSON.parse(thrown.text)).toEqual({
      message: 'Exception in function, consult logs for details',
      detail: 'TypeError: bad input',
    });
    const rejected = await h.call({ body: 'reject' });
    expect(JSON.parse(rejected.text).detail).toBe('Error: went wrong');
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('function failed'), expect.any(TypeError));
    expect((await h.call({ body: 'ok' })).text).toBe('"fine"');
  });

  it('answers 502 for a result that cannot be encoded, without crashing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const results: unknown[] = [10n, circular];
    const h = await start(() => results.shift());
    for (let i = 0; i < 2; i++) {
      const res = await h.call({ body: '' });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text).message).toBe('Function result could not be encoded, consult logs for details');
    }
    expect((await h.call({ body: '' })).status).toBe(200);
  });

  it('answers 504 itself when the deadline passes first, and drops the late result', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let finished = false;
    const h = await start(async () => {
      await sleep(400);
      finished = true;
      return 'too late';
    });
    const res = await h.call({ headers: { 'Fn-Deadline': new Date(Date.now() + 150).toISOString() }, body: '' });
    expect(res.status).toBe(504);
    expect(JSON.parse(res.text)).toEqual({ message: 'Timed out' });
    expect(finished).toBe(false); // answered before the function settled
    await vi.waitFor(() => expect(finished).toBe(true), { timeout: 5000, interval: 10 });
    // The late result arrived and was dropped; the server still serves.
    expect((await h.call({ body: '' })).text).toBe('"too late"');
  });
});

describe('deadlineGuard: false', () => {
  it('lets a function answer after its deadline and runs one that arrives late', async () => {
    const h = await start(async (input: number) => {
      await sleep(input);
      return 'answered';
    }, {}, { deadlineGuard: false });
    const late = await h.call({ headers: { 'Fn-Deadline': new Date(Date.now() + 50).toISOString() }, body: '200' });
    expect(late.status).toBe(200);
    expect(late.text).toBe('"answered"');
    const expired = await h.call({ headers: { 'Fn-Deadline': new Date(Date.now() - 1000).toISOString() }, body: '0' });
    expect(expired.status).toBe(200);
  });
});

describe('transport', () => {
  it('serves a fresh connection per call', async () => {
    const h = await start((input: number) => input + 1);
    const sockets = new Set<Socket>();
    for (let i = 0; i < 3; i++) {
      const res = await h.call({ body: String(i) });
      expect(res.text).toBe(String(i + 1));
      expect(res.headers['connection']).toBe('close');
      sockets.add(res.socket);
    }
    expect(sockets.size).toBe(3);
  });

  it('reuses one keep-alive connection across calls and never advertises an idle timeout', async () => {
    const h = await start((input: number) => input * 2);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const results = [];
      for (let i = 1; i <= 3; i++) results.push(await h.call({ body: String(i), agent }));
      expect(results.map((res) => res.text)).toEqual(['2', '4', '6']);
      expect(new Set(results.map((res) => res.socket)).size).toBe(1);
      expect(results[0]?.headers['connection']).toBe('keep-alive');
      expect(results[0]?.headers['keep-alive']).toBeUndefined();
    } finally {
      agent.destroy();
    }
  });

  it('keeps an idle keep-alive connection open longer than Node’s default idle timeout (5 s plus 1 s grace)', { timeout: 15_000 }, async () => {
    const h = await start(() => 'again');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await h.call({ body: '', agent });
      let closed = false;
      first.socket.once('close', () => (closed = true));
      await sleep(6_500);
      expect(closed).toBe(false);
      const second = await h.call({ body: '', agent });
      expect(second.text).toBe('"again"');
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('serves concurrent calls on separate connections', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const h = await start(async (input: number) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(100);
      inFlight--;
      return input;
    });
    const results = await Promise.all([1, 2, 3].map((i) => h.call({ body: String(i) })));
    expect(results.map((res) => res.text)).toEqual(['1', '2', '3']);
    expect(maxInFlight).toBe(3);
  });
});
