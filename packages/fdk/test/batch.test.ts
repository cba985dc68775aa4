// handleBatch over a real socket: decoding in each encoding, the batch context, and
// every way of reporting failures (STREAMS.md semantics 4 and 7).
import { describe, expect, it, vi } from 'vitest';
import { RecordError, type BatchContext, type BatchRecord } from '../src/index.js';
import { batchEvent, type RecordSpec } from './support/batch-events.js';
import { batchHarnessPerTest } from './support/socket-harness.js';

const start = batchHarnessPerTest();

const RECORDS: RecordSpec[] = [
  { offset: 120, key: 'a', value: 'first', headers: { trace: 'abc' } },
  { offset: 121, key: null, value: 'second' },
  { offset: 125, key: 'c', value: 'third', headers: { bin: Buffer.from([0xff, 0]) } },
];

const post = (event: object, headers: Record<string, string> = {}) => ({
  headers: { 'Content-Type': 'application/json', 'Fn-Call-Id': 'call-b', ...headers },
  body: JSON.stringify(event),
});

describe('handleBatch decoding', () => {
  it('hands Buffers for base64 values, keys and binary headers, and answers {"failures":[]}', async () => {
    let seen: BatchRecord[] = [];
    const h = await start((records) => {
      seen = records;
    });
    const res = await h.call(post(batchEvent(RECORDS, 'base64')));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({ failures: [] });
    expect(seen.map((r) => [r.offset, r.key, r.value])).toEqual([
      [120, Buffer.from('a'), Buffer.from('first')],
      [121, null, Buffer.from('second')],
      [125, Buffer.from('c'), Buffer.from('third')],
    ]);
    expect(seen[0]?.headers).toEqual({ trace: 'abc' });
    expect(seen[2]?.headers).toEqual({ bin: Buffer.from([0xff, 0]) });
    expect(seen[0]?.timestamp).toEqual(new Date(1767225600120));
    expect(seen.map((r) => r.idempotencyKey)).toEqual(['orders/3/120', 'orders/3/121', 'orders/3/125']);
  });

  it('hands strings under utf8, including multi-byte text', async () => {
    let seen: Array<BatchRecord<string>> = [];
    const h = await start<string>((records) => {
      seen = records;
    });
    await h.call(post(batchEvent([{ offset: 120, key: 'ключ', value: 'añ€😀' }], 'utf8')));
    expect(seen.map((r) => [r.key, r.value])).toEqual([['ключ', 'añ€😀']]);
  });

  it('hands parsed values under json', async () => {
    let seen: Array<BatchRecord<{ total: number }>> = [];
    const h = await start<{ total: number }>((records) => {
      seen = records;
    });
    await h.call(post(batchEvent([{ offset: 120, key: 'order-1', value: { total: 5 } }], 'json')));
    expect(seen.map((r) => [r.key, r.value])).toEqual([['order-1', { total: 5 }]]);
  });

  it('runs an empty batch and answers no failures', async () => {
    const fn = vi.fn();
    const h = await start(fn);
    const res = await h.call(post(batchEvent([])));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ failures: [] });
    expect(fn).toHaveBeenCalledWith([], expect.anything());
  });
});

describe('handleBatch context', () => {
  it('carries the batch coordinates and the usual call context', async () => {
    let ctx: BatchContext | undefined;
    const h = await start((_records, batchCtx) => {
      ctx = batchCtx;
      batchCtx.setResponseHeader('X-Seen', 'yes');
    }, { FN_APP_NAME: 'shop', FN_FN_NAME: 'consumer' });
    const res = await h.call(post(batchEvent(RECORDS, 'base64', { batch: { id: 'b-9', attempt: 3, firstOffset: 120, lastOffset: 219 } })));
    expect(ctx).toMatchObject({
      batchId: 'b-9',
      attempt: 3,
      sourceType: 'embedded',
      stream: 'orders',
      partition: 3,
      firstOffset: 120,
      lastOffset: 219,
      trigger: { id: 'trg-1', name: 'orders-consumer' },
      callId: 'call-b',
      fnName: 'consumer',
    });
    expect(ctx?.tracing.serviceName).toBe('shop::consumer');
    expect(ctx?.getHeader('content-type')).toBe('application/json');
    expect(res.headers['x-seen']).toBe('yes'); // headers set on the batch context are sent
  });
});

describe('handleBatch failures', () => {
  it('answers a thrown RecordError as a partial batch response', async () => {
    const h = await start((records) => {
      for (const record of records) {
        if (record.value?.toString() === 'second') throw new RecordError(record, 'cannot parse');
      }
    });
    const res = await h.call(post(batchEvent(RECORDS)));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ failures: [{ offset: 121, error: 'cannot parse' }] });
  });

  it('collects ctx.fail calls, deduplicated and sorted, with a RecordError by offset added', async () => {
    const h = await start((records, ctx) => {
      ctx.fail(records[2]!, new TypeError('bad total'));
      ctx.fail(120, 'missing field');
      ctx.fail(120, 'reported twice; the first report is kept');
      throw new RecordError(121, 'and this one');
    });
    const res = await h.call(post(batchEvent(RECORDS)));
    expect(JSON.parse(res.text)).toEqual({
      failures: [
        { offset: 120, error: 'missing field' },
        { offset: 121, error: 'and this one' },
        { offset: 125, error: 'TypeError: bad total' },
      ],
    });
  });

  it('answers a returned { failures } list', async () => {
    const h = await start(async () => ({ failures: [{ offset: 125, error: 'later' }, { offset: 121, error: 'earlier' }] }));
    const res = await h.call(post(batchEvent(RECORDS)));
    expect(JSON.parse(res.text)).toEqual({ failures: [{ offset: 121, error: 'earlier' }, { offset: 125, error: 'later' }] });
  });

  it('answers 502 for a plain throw: the whole batch failed', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start((_records, ctx) => {
      ctx.fail(120, 'ignored, the whole batch fails');
      throw new Error('database down');
    });
    const res = await h.call(post(batchEvent(RECORDS)));
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text)).toEqual({ message: 'Exception in function, consult logs for details', detail: 'Error: database down' });
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('function failed in call call-b'), expect.any(Error));
  });

  it('answers 502 for a failure at an offset that is not in the batch, or a result of the wrong shape', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const results: unknown[] = [{ failures: [{ offset: 122, error: 'x' }] }, { failed: [] }, 'ok'];
    const h = await start((() => results.shift()) as () => void);
    const unknownOffset = await h.call(post(batchEvent(RECORDS)));
    expect(unknownOffset.status).toBe(502);
    expect(JSON.parse(unknownOffset.text).detail).toMatch(/offset 122 is not a record of this batch/);
    for (let i = 0; i < 2; i++) {
      const res = await h.call(post(batchEvent(RECORDS)));
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text).detail).toMatch(/must return nothing or \{ failures/);
    }
  });

  it('answers 502 with a clear logged message for a malformed event, without running the function', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const fn = vi.fn();
    const h = await start(fn);
    const event = batchEvent(RECORDS);
    (event.records[1] as { value: unknown }).value = 'not base64!';
    for (const body of [JSON.stringify(event), 'not json at all']) {
      const res = await h.call({ headers: { 'Fn-Call-Id': 'call-m' }, body });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text).message).toBe('Invalid batch event, consult logs for details');
    }
    expect(fn).not.toHaveBeenCalled();
    expect(errors).toHaveBeenCalledWith(
      'fnts-fdk: call call-m did not carry a valid batch event: invalid batch event: records[1].value is not valid base64',
    );
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/invalid batch event: the event is not JSON/));
  });

  it('answers 502 when the event’s encoding is not the one the function expects', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const h = await start<string>(() => undefined, {}, { encoding: 'utf8' });
    const res = await h.call(post(batchEvent(RECORDS, 'base64')));
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).detail).toBe(
      "invalid batch event: encoding is 'base64', but the function expects 'utf8' (check the trigger's value encoding)",
    );
    expect((await h.call(post(batchEvent(RECORDS, 'utf8')))).status).toBe(200);
  });
});
