import { describe, expect, it } from 'vitest';
import { invokeRequestHeaders, triggerRequestHeaders, triggerResponse } from '../src/agent/http-headers.js';

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
