import { describe, expect, it } from 'vitest';
import { callHeaders, invokeRequestHeaders, triggerRequestHeaders, triggerResponse } from '../src/agent/http-headers.js';

const HOSTILE = {
  host: 'example', 'content-length': '10', 'content-type': 'application/json',
  expect: '100-continue', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5',
  te: 'trailers', trailer: 'x-sum', upgrade: 'websocket', 'proxy-authorization': 'Basic eDp5', 'proxy-connection': 'close',
  'transfer-encoding': 'chunked', 'x-end-to-end': 'kept',
};

describe('hop-by-hop and expectation headers', () => {
  it('never forwards them on an invoke, nor the headers Connection names', () => {
    expect(invokeRequestHeaders(HOSTILE)).toEqual({ 'content-type': 'application/json', 'x-end-to-end': 'kept' });
  });

  it('never forwards them on an HTTP-trigger call either', () => {
    const out = triggerRequestHeaders(HOSTILE, 'POST', 'http://example/t/app/x');
    const names = Object.keys(out).map((n) => n.toLowerCase());
    for (const h of ['expect', 'connection', 'x-secret-hop', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-connection']) {
      expect(names).not.toContain(`fn-http-h-${h}`);
    }
    expect(out['Fn-Http-H-X-End-To-End']).toBe('kept');
  });

  it('drops them from a function\'s trigger response', () => {
    const { headers } = triggerResponse({ 'fn-http-h-upgrade': 'h2c', 'fn-http-h-proxy-authenticate': 'x', 'fn-http-h-x-ok': '1' }, 'call');
    expect(headers).toEqual({ 'X-Ok': '1', 'Fn-Call-Id': 'call' });
  });
});

describe('the headers of POST /call', () => {
  it('are one flat name/value list: every value of a repeated header, then the call id and deadline, which replace any the call carried', () => {
    const out = callHeaders(
      { 'content-type': 'application/json', 'x-many': ['1', '2'], 'Fn-Call-Id': 'forged', 'fn-deadline': 'forged' },
      '01CALL',
      Date.UTC(2030, 0, 2, 3, 4, 5, 678),
    );
    expect(out).toEqual([
      'content-type', 'application/json', 'x-many', '1', 'x-many', '2',
      'fn-call-id', '01CALL', 'fn-deadline', '2030-01-02T03:04:05.678Z',
    ]);
  });

  it('lets a plain keep-alive or close Connection header through the hop-by-hop rules untouched, and splits any other', () => {
    expect(invokeRequestHeaders({ connection: 'keep-alive', 'x-a': '1' })).toEqual({ 'x-a': '1' });
    expect(invokeRequestHeaders({ connection: 'close', 'x-a': '1' })).toEqual({ 'x-a': '1' });
    expect(invokeRequestHeaders({ connection: 'close, X-A', 'x-a': '1', 'x-b': '2' })).toEqual({ 'x-b': '2' });
  });
});
