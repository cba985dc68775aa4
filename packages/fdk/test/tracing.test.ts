import { describe, expect, it } from 'vitest';
import { collectRequestHeaders } from '../src/headers.js';
import { readTracing } from '../src/tracing.js';

const trace = (raw: string[], names: { appName?: string; fnName?: string } = {}) =>
  readTracing(collectRequestHeaders(raw), names);

describe('readTracing', () => {
  it('reads the multi-header B3 form, matching names case-insensitively', () => {
    expect(
      trace([
        'x-b3-traceid', '463ac35c9f6413ad48485a3953bb6124',
        'X-B3-SpanId', 'a2fb4a1d1a96d312',
        'X-B3-ParentSpanId', '0020000000000001',
        'X-B3-Sampled', '1',
      ]),
    ).toEqual({
      traceId: '463ac35c9f6413ad48485a3953bb6124',
      spanId: 'a2fb4a1d1a96d312',
      parentSpanId: '0020000000000001',
      sampled: true,
      flags: null,
      serviceName: undefined,
    });
  });

  it.each([
    [['X-B3-Sampled', '0'], false],
    [['X-B3-Sampled', 'true'], true],
    [['X-B3-Sampled', 'TRUE'], true],
    [['X-B3-Sampled', 'false'], false],
    [['X-B3-Flags', '1'], true], // debug implies sampled
    [['X-B3-TraceId', 'abc'], false], // no decision: not sampled
  ])('sampled for %j is %s', (raw, sampled) => expect(trace(raw).sampled).toBe(sampled));

  it('has null ids and sampled false without any B3 header', () => {
    expect(trace([])).toEqual({ traceId: null, spanId: null, parentSpanId: null, sampled: false, flags: null, serviceName: undefined });
  });

  it('reads the single b3 header in each of its forms', () => {
    expect(trace(['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90'])).toMatchObject({
      traceId: '80f198ee56343ba864fe8b2a57d3eff7',
      spanId: 'e457b5a2e4d86bd1',
      parentSpanId: '05e3ac9a4f6e3b90',
      sampled: true,
    });
    expect(trace(['b3', 'aaaa-bbbb'])).toMatchObject({ traceId: 'aaaa', spanId: 'bbbb', parentSpanId: null, sampled: false });
    expect(trace(['b3', 'aaaa-bbbb-d'])).toMatchObject({ sampled: true, flags: '1' });
    expect(trace(['b3', '0'])).toMatchObject({ traceId: null, sampled: false });
  });

  it('prefers the multi-header form over b3', () => {
    expect(trace(['b3', 'aaaa-bbbb-1', 'X-B3-TraceId', 'cccc']).traceId).toBe('cccc');
  });

  it('falls back to the trigger-prefixed headers only when no plain B3 header is present', () => {
    const prefixed = ['Fn-Http-H-X-B3-Traceid', 'tt', 'Fn-Http-H-X-B3-Spanid', 'ss', 'Fn-Http-H-X-B3-Sampled', '1'];
    expect(trace(prefixed)).toMatchObject({ traceId: 'tt', spanId: 'ss', sampled: true });
    expect(trace(['Fn-Http-H-B3', 'tt-ss-d'])).toMatchObject({ traceId: 'tt', spanId: 'ss', flags: '1' });
    // Never a mix of two traces: a plain header wins as a whole.
    expect(trace([...prefixed, 'X-B3-TraceId', 'plain'])).toMatchObject({ traceId: 'plain', spanId: null, sampled: false });
  });

  it('names the service appName::fnName lowercased, only when both are known', () => {
    expect(trace([], { appName: 'MyApp', fnName: 'Hello' }).serviceName).toBe('myapp::hello');
    expect(trace([], { appName: 'MyApp' }).serviceName).toBeUndefined();
    expect(trace([], { fnName: 'Hello' }).serviceName).toBeUndefined();
  });
});
