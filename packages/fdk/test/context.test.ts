import { describe, expect, it } from 'vitest';
import { CallContext } from '../src/context.js';
import { collectRequestHeaders } from '../src/headers.js';
import type { FunctionInfo } from '../src/settings.js';

const FUNCTION: FunctionInfo = {
  fnId: 'f',
  appId: 'a',
  fnName: undefined,
  appName: undefined,
  memory: 128,
  config: Object.freeze({ KEY: 'v' }),
};

function makeContext(rawHeaders: string[] = [], deadline: Date | null = null, now = () => 1_000) {
  return new CallContext({ function: FUNCTION, headers: collectRequestHeaders(rawHeaders), deadline, now });
}

describe('CallContext', () => {
  it('counts remaining time from the injected clock, never below 0', () => {
    let now = 1_000;
    const ctx = makeContext([], new Date(1_500), () => now);
    expect(ctx.remainingMs()).toBe(500);
    now = 2_000;
    expect(ctx.remainingMs()).toBe(0);
  });

  it('hands out copies of the deadline and headers', () => {
    const ctx = makeContext(['X-A', '1'], new Date(5_000));
    ctx.deadline?.setTime(0);
    ctx.headers['X-A']?.push('2');
    ctx.getAllHeaderValues('x-a').push('3');
    expect(ctx.deadline?.getTime()).toBe(5_000);
    expect(ctx.getAllHeaderValues('X-A')).toEqual(['1']);
  });

  it('looks up config by own keys only', () => {
    const ctx = makeContext();
    expect(ctx.getConfig('KEY')).toBe('v');
    expect(ctx.getConfig('toString')).toBeUndefined();
    expect(ctx.getConfig('MISSING')).toBeUndefined();
  });

  it('defaults the response content type to application/json and lets it be changed or removed', () => {
    const ctx = makeContext();
    expect(ctx.responseContentType).toBe('application/json');
    ctx.responseContentType = 'text/html';
    expect(ctx.getResponseHeader('content-type')).toBe('text/html');
    ctx.responseContentType = null;
    expect(ctx.responseContentType).toBeNull();
    expect(ctx.responseHeaders).toEqual({});
  });

  it('sets, appends and removes response headers under canonical names', () => {
    const ctx = makeContext();
    ctx.setResponseHeader('x-a', '1');
    ctx.addResponseHeader('X-A', '2', '3');
    ctx.addResponseHeader('x_b', '4');
    expect(ctx.responseHeaders).toMatchObject({ 'X-A': ['1', '2', '3'], 'X-B': ['4'] });
    ctx.setResponseHeader('X-A');
    expect(ctx.getResponseHeader('X-A')).toBeNull();
    const copy = ctx.responseHeaders;
    copy['X-B']?.push('changed');
    expect(ctx.responseHeaders['X-B']).toEqual(['4']);
  });

  it('makes a second view of the same call that shares its facts and response headers', () => {
    const ctx = makeContext(['Fn-Call-Id', 'c-1', 'X-B3-Traceid', 't']);
    const view = new CallContext(ctx);
    view.setResponseHeader('X-From-View', '1');
    expect(ctx.getResponseHeader('X-From-View')).toBe('1');
    expect(view.callId).toBe('c-1');
    expect(view.tracing.traceId).toBe('t');
  });

  it('throws at the call site for a header value that would break the response', () => {
    expect(() => makeContext().setResponseHeader('X-A', 'a\nb')).toThrow(TypeError);
  });
});

describe('httpGateway', () => {
  it('reads and clears the user status, and refuses non-HTTP statuses', () => {
    const ctx = makeContext();
    expect(ctx.httpGateway.statusCode).toBeNull();
    ctx.httpGateway.statusCode = 404;
    expect(ctx.getResponseHeader('Fn-Http-Status')).toBe('404');
    expect(ctx.httpGateway.statusCode).toBe(404);
    ctx.httpGateway.statusCode = null;
    expect(ctx.responseHeaders['Fn-Http-Status']).toBeUndefined();
    for (const bad of [99, 600, 200.5, Number.NaN]) {
      expect(() => (ctx.httpGateway.statusCode = bad)).toThrow(RangeError);
    }
  });

  it('shares response headers with ctx, so Content-Type set here is the response content type', () => {
    const ctx = makeContext();
    ctx.httpGateway.setResponseHeader('content-type', 'text/plain');
    ctx.httpGateway.addResponseHeader('X-Y', 'z');
    expect(ctx.responseContentType).toBe('text/plain');
    expect(ctx.getResponseHeader('X-Y')).toBe('z');
  });

  it('is empty on a call that did not come through a trigger', () => {
    const gateway = makeContext(['Fn-Call-Id', 'c']).httpGateway;
    expect([gateway.method, gateway.requestURL, gateway.headers, gateway.getAllHeaderValues('X')]).toEqual([
      null, null, {}, [],
    ]);
  });
});
