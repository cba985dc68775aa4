import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderName,
  checkedResponseHeader,
  collectRequestHeaders,
  headerRecord,
  httpGatewayHeaders,
  wireResponseHeaders,
  type HeaderMap,
} from '../src/headers.js';

describe('canonicalHeaderName', () => {
  it.each([
    ['x-b3-traceid', 'X-B3-Traceid'],
    ['CONTENT-TYPE', 'Content-Type'],
    ['fn_call_id', 'Fn-Call-Id'],
    ['te', 'Te'],
    ['x--y', 'X--Y'],
    ['', ''],
  ])('%s → %s', (name, canonical) => {
    expect(canonicalHeaderName(name)).toBe(canonical);
  });
});

describe('collectRequestHeaders', () => {
  it('keeps every value of a repeated header, in order, under its canonical name', () => {
    const headers = collectRequestHeaders(['x-multi', 'a', 'Fn-Call-Id', 'c1', 'X-MULTI', 'b']);
    expect([...headers]).toEqual([
      ['X-Multi', ['a', 'b']],
      ['Fn-Call-Id', ['c1']],
    ]);
  });

  it('skips hop-by-hop headers, including Te which fdk-node lets through', () => {
    const raw = ['Connection', 'keep-alive', 'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'x',
      'Upgrade', 'h2c', 'Proxy-Authorization', 'y', 'Host', 'localhost'];
    expect([...collectRequestHeaders(raw).keys()]).toEqual(['Host']);
  });
});

describe('headerRecord', () => {
  it('copies deeply, so changing the copy leaves the map alone', () => {
    const map: HeaderMap = new Map([['X-A', ['1']]]);
    const copy = headerRecord(map);
    copy['X-A']?.push('2');
    expect(map.get('X-A')).toEqual(['1']);
  });
});

describe('httpGatewayHeaders', () => {
  it('strips the Fn-Http-H- prefix and ignores other headers and the bare prefix', () => {
    const headers = collectRequestHeaders(['Fn-Http-H-X-Token', 'a', 'Fn-Http-H-', 'none', 'Fn-Call-Id', 'c']);
    expect([...httpGatewayHeaders(headers)]).toEqual([['X-Token', ['a']]]);
  });
});

describe('wireResponseHeaders', () => {
  const set: HeaderMap = new Map([
    ['Content-Type', ['text/plain']],
    ['Location', ['/x']],
    ['Fn-Http-Status', ['201']],
    ['Fn-Http-H-X-Pre', ['p']],
    ['Content-Length', ['999']],
    ['Connection', ['close']],
    ['Fn-Fdk-Version', ['fake']],
  ]);

  it('sends names unchanged outside trigger calls, minus framing and FDK-owned headers', () => {
    expect([...wireResponseHeaders(set, false).keys()]).toEqual([
      'Content-Type', 'Location', 'Fn-Http-Status', 'Fn-Http-H-X-Pre',
    ]);
  });

  it('prefixes all but Content-Type, Fn-Http-Status and prefixed names on trigger calls', () => {
    expect([...wireResponseHeaders(set, true).keys()]).toEqual([
      'Content-Type', 'Fn-Http-H-Location', 'Fn-Http-Status', 'Fn-Http-H-X-Pre',
    ]);
  });

  it('merges a header set both plainly and prefixed into one', () => {
    const both: HeaderMap = new Map([['X-A', ['1']], ['Fn-Http-H-X-A', ['2']]]);
    expect(wireResponseHeaders(both, true).get('Fn-Http-H-X-A')).toEqual(['1', '2']);
  });
});

describe('checkedResponseHeader', () => {
  it('canonicalises the name and stringifies values', () => {
    expect(checkedResponseHeader('x-count', [3, true])).toEqual(['X-Count', ['3', 'true']]);
  });

  it('throws on a name or value that cannot go on the wire', () => {
    expect(() => checkedResponseHeader('bad name', ['v'])).toThrow(TypeError);
    expect(() => checkedResponseHeader('', ['v'])).toThrow(TypeError);
    expect(() => checkedResponseHeader('X-A', ['line\r\nInjected: 1'])).toThrow(TypeError);
  });
});
