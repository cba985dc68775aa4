// The ctx a function sees and the headers it sends, over a real socket:
// request headers, env, config, HTTP trigger mapping (CONTRACT §2.3) and log framing (§1.6).
import { describe, expect, it, vi } from 'vitest';
import type { Context } from '../src/index.js';
import { harnessPerTest } from './support/socket-harness.js';

const start = harnessPerTest();

const ENV = {
  FN_FN_ID: 'fn-123',
  FN_APP_ID: 'app-456',
  FN_FN_NAME: 'hello',
  FN_APP_NAME: 'myapp',
  FN_MEMORY: '256',
  FNTS_CONFIG_KEYS: 'DB_URL,MODE',
  DB_URL: 'postgres://db',
  MODE: 'fast',
  NOT_CONFIG: 'secret',
};

function describeCtx(_input: unknown, ctx: Context) {
  return {
    callId: ctx.callId,
    deadline: ctx.deadline?.toISOString() ?? null,
    remainingIsInfinite: ctx.remainingMs() === Infinity,
    fnId: ctx.fnId,
    appId: ctx.appId,
    fnName: ctx.fnName,
    appName: ctx.appName,
    memory: ctx.memory,
    config: ctx.config,
    mode: ctx.getConfig('MODE'),
    notConfig: ctx.getConfig('NOT_CONFIG') ?? 'absent',
    contentType: ctx.contentType,
    headers: ctx.headers,
    traceId: ctx.getHeader('x-b3-traceid'),
    tracing: ctx.tracing,
    multi: ctx.getAllHeaderValues('X-MULTI'),
    missing: [ctx.getHeader('X-Missing'), ctx.getAllHeaderValues('X-Missing')],
  };
}

describe('context', () => {
  it('exposes call facts from headers and function facts from env', async () => {
    const h = await start(describeCtx, ENV);
    const res = await h.call({
      headers: {
        'Fn-Call-Id': 'call-1',
        'Fn-Deadline': '2099-01-01T12:00:00+02:00',
        'Content-Type': 'application/json',
        'X-B3-TraceId': 'abc',
        'X-B3-SpanId': 'def',
        'X-B3-ParentSpanId': '012',
        'X-B3-Sampled': '1',
        'X-B3-Flags': '0',
        'X-Multi': ['one', 'two'],
      },
      chunks: ['{}'], // chunked, so Transfer-Encoding is on the wire
    });
    const seen = JSON.parse(res.text);
    expect(seen).toMatchObject({
      callId: 'call-1',
      deadline: '2099-01-01T10:00:00.000Z',
      remainingIsInfinite: false,
      fnId: 'fn-123',
      appId: 'app-456',
      fnName: 'hello',
      appName: 'myapp',
      memory: 256,
      config: { DB_URL: 'postgres://db', MODE: 'fast' },
      mode: 'fast',
      notConfig: 'absent',
      contentType: 'application/json',
      traceId: 'abc',
      tracing: { traceId: 'abc', spanId: 'def', parentSpanId: '012', sampled: true, flags: '0', serviceName: 'myapp::hello' },
      multi: ['one', 'two'],
      missing: [null, []],
    });
    expect(Object.keys(seen.config)).toEqual(['DB_URL', 'MODE']);
    expect(seen.headers['X-B3-Traceid']).toEqual(['abc']);
    expect(seen.headers['Fn-Call-Id']).toEqual(['call-1']);
    // hop-by-hop headers never reach the function
    expect(seen.headers['Connection']).toBeUndefined();
    expect(seen.headers['Transfer-Encoding']).toBeUndefined();
  });

  it('has no deadline and infinite time without Fn-Deadline; names are undefined without env', async () => {
    const h = await start(describeCtx);
    const seen = JSON.parse((await h.call({ body: '' })).text);
    expect(seen).toMatchObject({ deadline: null, remainingIsInfinite: true, fnId: '', memory: 0, config: {} });
    expect(seen).not.toHaveProperty('fnName');
    // serviceName is undefined (absent in JSON) without both names, unlike fdk-node's 'undefined::undefined'
    expect(seen.tracing).toEqual({ traceId: null, spanId: null, parentSpanId: null, sampled: false, flags: null });
  });

  it('counts remainingMs down to a deadline', async () => {
    const h = await start((_input: unknown, ctx: Context) => ctx.remainingMs());
    const res = await h.call({ headers: { 'Fn-Deadline': new Date(Date.now() + 30_000).toISOString() }, body: '' });
    expect(Number(res.text)).toBeGreaterThan(25_000);
    expect(Number(res.text)).toBeLessThanOrEqual(30_000);
  });

  it('reads back the response headers it has set', async () => {
    const h = await start((_input: unknown, ctx: Context) => {
      const before = { type: ctx.responseContentType, headers: ctx.responseHeaders };
      ctx.setResponseHeader('X-One', '1', '2');
      ctx.responseContentType = 'text/csv';
      const copy = ctx.responseHeaders;
      copy['X-One']?.push('mutated'); // a copy: the response is unaffected
      ctx.setResponseHeader('X-Gone', 'x');
      ctx.setResponseHeader('X-Gone'); // no values removes it
      return { before, after: ctx.responseHeaders, one: ctx.getResponseHeader('x-one'), none: ctx.getResponseHeader('X-No') };
    });
    const res = await h.call({ body: '' });
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.headers['x-one']).toBe('1, 2');
    expect(res.headers['x-gone']).toBeUndefined();
    expect(JSON.parse(res.text)).toEqual({
      before: { type: 'application/json', headers: { 'Content-Type': ['application/json'] } },
      after: { 'Content-Type': ['text/csv'], 'X-One': ['1', '2'] },
      one: '1',
      none: null,
    });
  });

  it('sends the function’s headers unprefixed on a plain invoke', async () => {
    const h = await start((_input: unknown, ctx: Context) => {
      ctx.setResponseHeader('X-Custom', 'a');
      ctx.addResponseHeader('x-custom', 'b');
      ctx.httpGateway.statusCode = 201;
      return { ok: true };
    });
    const res = await h.call({ body: '' });
    expect(res.status).toBe(200);
    expect(res.headers['x-custom']).toBe('a, b');
    expect(res.headers['fn-http-status']).toBe('201');
    expect(res.headers['fn-http-h-x-custom']).toBeUndefined();
  });
});

describe('HTTP trigger calls', () => {
  const triggerHeaders = {
    'Fn-Call-Id': 'call-t',
    'Fn-Intent': 'httprequest',
    'Fn-Http-Method': 'PUT',
    'Fn-Http-Request-Url': 'http://localhost:8080/t/myapp/hello?x=1',
    'Fn-Http-H-X-Token': 'a',
    'Fn-Http-H-Content-Length': '5',
    'Content-Type': 'text/plain',
  };

  it('exposes the end user’s request through ctx.httpGateway', async () => {
    const h = await start((_input: unknown, ctx: Context) => ({
      method: ctx.httpGateway.method,
      url: ctx.httpGateway.requestURL,
      headers: ctx.httpGateway.headers,
      token: ctx.httpGateway.getHeader('x-token'),
      all: ctx.httpGateway.getAllHeaderValues('X-Absent'),
    }));
    const res = await h.call({ headers: triggerHeaders, body: 'hello' });
    expect(JSON.parse(res.text)).toEqual({
      method: 'PUT',
      url: 'http://localhost:8080/t/myapp/hello?x=1',
      headers: { 'X-Token': ['a'], 'Content-Length': ['5'] },
      token: 'a',
      all: [],
    });
  });

  it('prefixes response headers with Fn-Http-H- except Content-Type, and sets Fn-Http-Status', async () => {
    const h = await start((_input: unknown, ctx: Context) => {
      ctx.httpGateway.statusCode = 201;
      ctx.setResponseHeader('Location', '/x/1');
      ctx.httpGateway.addResponseHeader('X-Extra', '1', '2');
      ctx.setResponseHeader('Fn-Http-H-Already', 'y'); // fdk-node style, not prefixed twice
      ctx.responseContentType = 'text/plain';
      return 'created';
    });
    const res = await h.call({ headers: triggerHeaders, body: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers['fn-http-status']).toBe('201');
    expect(res.headers['fn-http-h-location']).toBe('/x/1');
    expect(res.headers['fn-http-h-x-extra']).toBe('1, 2');
    expect(res.headers['fn-http-h-already']).toBe('y');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['location']).toBeUndefined();
    expect(res.headers['fn-http-h-content-type']).toBeUndefined();
    expect(res.text).toBe('created');
  });

  it('reads B3 tracing from the Fn-Http-H-X-B3-* headers of a trigger call', async () => {
    const h = await start((_input: unknown, ctx: Context) => ctx.tracing, { FN_APP_NAME: 'Shop', FN_FN_NAME: 'Cart' });
    const res = await h.call({
      headers: { ...triggerHeaders, 'Fn-Http-H-X-B3-Traceid': 'tr', 'Fn-Http-H-X-B3-Spanid': 'sp', 'Fn-Http-H-X-B3-Sampled': '1' },
      body: '',
    });
    expect(JSON.parse(res.text)).toEqual({
      traceId: 'tr',
      spanId: 'sp',
      parentSpanId: null,
      sampled: true,
      flags: null,
      serviceName: 'shop::cart',
    });
  });

  it('rejects an invalid status code inside the function, giving a 502', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start((_input: unknown, ctx: Context) => {
      ctx.httpGateway.statusCode = 42;
    });
    const res = await h.call({ headers: triggerHeaders, body: '' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).detail).toMatch(/RangeError: .*100 to 599, got 42/);
  });
});

describe('log framing', () => {
  it('writes \\n<NAME>=<header value> to stdout and stderr before the first output of each call', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const h = await start((input: unknown) => {
      if (input === 'quiet') return 'ok';
      process.stdout.write(`out ${String(input)}\n`);
      process.stdout.write('more\n');
      if (input === 'both') process.stderr.write('err\n');
      return 'ok';
    }, { FN_LOGFRAME_NAME: 'FN_CALL', FN_LOGFRAME_HDR: 'fn-call-id' });
    const text = { 'Content-Type': 'text/plain' };
    await h.call({ headers: { ...text, 'Fn-Call-Id': 'c-41' }, body: 'quiet' }); // printed nothing: no frame at all
    await h.call({ headers: { ...text, 'Fn-Call-Id': 'c-42' }, body: 'both' });
    await h.call({ headers: { ...text, 'Fn-Call-Id': 'c-43' }, body: 'one' });
    const written = (spy: typeof out) => spy.mock.calls.map(([chunk]) => String(chunk));
    expect(written(out)).toEqual(['\nFN_CALL=c-42\n', 'out both\n', 'more\n', '\nFN_CALL=c-43\n', 'out one\n', 'more\n']);
    expect(written(err)).toEqual(['\nFN_CALL=c-42\n', 'err\n']);
  });

  it('frames output written with fs.writeSync to descriptors 1 and 2 too', async () => {
    const fs = await import('node:fs');
    const seen: string[] = [];
    const writeSync = vi.spyOn(fs.default, 'writeSync').mockImplementation((fd: number, data: unknown) => {
      seen.push(`${fd}:${String(data)}`);
      return 0;
    });
    const h = await start(() => {
      fs.default.writeSync(1, 'flood\n');
      fs.default.writeSync(1, 'more\n');
      fs.default.writeSync(7, 'a file\n');
      return 'ok';
    }, { FN_LOGFRAME_NAME: 'FN_CALL', FN_LOGFRAME_HDR: 'fn-call-id' });
    await h.call({ headers: { 'Fn-Call-Id': 'c-44' }, body: '' });
    expect(seen).toEqual(['1:\nFN_CALL=c-44\n', '1:flood\n', '1:more\n', '7:a file\n']);
    expect(writeSync).toHaveBeenCalledTimes(4);
  });

  it('writes no frame for a call without the header', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const h = await start(() => {
      process.stdout.write('hi\n');
      return 'ok';
    }, { FN_LOGFRAME_NAME: 'FN_CALL', FN_LOGFRAME_HDR: 'fn-call-id' });
    await h.call({ body: '' });
    expect(out.mock.calls.some(([chunk]) => String(chunk).includes('FN_CALL'))).toBe(false);
  });

  it('writes no frame unless both variables are set', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const h = await start(() => 'ok', { FN_LOGFRAME_NAME: 'FN_CALL' });
    await h.call({ headers: { 'Fn-Call-Id': 'c-43' }, body: '' });
    expect(out.mock.calls.some(([chunk]) => String(chunk).includes('FN_CALL'))).toBe(false);
  });
});
