import { describe, expect, it } from 'vitest';
import { BatchEventError, decodeBatchEvent, type BatchEventWire } from '../src/index.js';
import { batchEvent } from './support/batch-events.js';

describe('decodeBatchEvent', () => {
  it('decodes the event the server sends, base64 by default', () => {
    const wire = batchEvent([
      { offset: 120, key: 'k1', value: Buffer.from([0, 255]), headers: { trace: 'abc', bin: Buffer.from([1, 2]) } },
      { offset: 121, key: null, value: 'v2' },
    ]);
    const event = decodeBatchEvent(JSON.stringify(wire));
    expect(event.source).toEqual({ type: 'embedded', stream: 'orders', partition: 3 });
    expect(event.batch).toEqual({ id: 'b-120-219', attempt: 1, firstOffset: 120, lastOffset: 219 });
    expect(event.trigger).toEqual({ id: 'trg-1', name: 'orders-consumer' });
    expect(event.encoding).toBe('base64');
    const [first, second] = event.records;
    expect(first?.key).toEqual(Buffer.from('k1'));
    expect(first?.value).toEqual(Buffer.from([0, 255]));
    expect(first?.headers).toEqual({ trace: 'abc', bin: Buffer.from([1, 2]) });
    expect(first?.timestamp).toEqual(new Date(1767225600120));
    expect(first?.idempotencyKey).toBe('orders/3/120');
    expect(second).toMatchObject({ offset: 121, key: null, value: Buffer.from('v2'), idempotencyKey: 'orders/3/121' });
  });

  it('accepts bytes and parsed objects as well as text, and defaults a missing encoding to base64', () => {
    const { encoding: _, ...wire } = batchEvent([{ offset: 120, value: 'x' }]);
    expect(decodeBatchEvent(Buffer.from(JSON.stringify(wire))).records[0]?.value).toEqual(Buffer.from('x'));
    expect(decodeBatchEvent(wire).encoding).toBe('base64');
  });

  it('gives strings under utf8 and embedded JSON values (with a text key) under json', () => {
    const utf8 = decodeBatchEvent<string>(batchEvent([{ offset: 130, key: 'é', value: 'añ€' }], 'utf8'));
    expect(utf8.records[0]).toMatchObject({ key: 'é', value: 'añ€' });
    const json = decodeBatchEvent<{ n: number }>(batchEvent([{ offset: 130, key: 'user-1', value: { n: 1 } }, { offset: 131, value: null }], 'json'));
    expect(json.records.map((r) => [r.key, r.value])).toEqual([['user-1', { n: 1 }], [null, null]]);
  });

  it('passes a null value through as a record without a value (a tombstone)', () => {
    const wire = batchEvent([{ offset: 120, value: 'x' }]);
    (wire.records[0] as { value: unknown }).value = null;
    expect(decodeBatchEvent(wire).records[0]?.value).toBeNull();
  });

  it('decodes an empty batch and keeps header names such as __proto__ as plain keys', () => {
    expect(decodeBatchEvent(batchEvent([])).records).toEqual([]);
    const wire = JSON.parse('{"offset":120,"timestamp":0,"value":"","headers":{"__proto__":"x"}}') as BatchEventWire['records'][number];
    const [record] = decodeBatchEvent(batchEvent([], 'base64', { records: [wire] })).records;
    expect(Object.getOwnPropertyNames(record?.headers)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(record?.headers)).toBe(Object.prototype);
  });

  it('freezes the event and its records', () => {
    const event = decodeBatchEvent(batchEvent([{ offset: 120, value: 'x' }]));
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.records)).toBe(true);
    expect(Object.isFrozen(event.records[0])).toBe(true);
    expect(Object.isFrozen(event.batch)).toBe(true);
  });

  const valid = (): BatchEventWire => batchEvent([{ offset: 120, value: 'x' }, { offset: 125, value: 'y' }]);
  const broken: Array<[string, (event: BatchEventWire & Record<string, unknown>) => unknown, RegExp]> = [
    ['not an object', () => [], /the event must be an object/],
    ['no source', (e) => ({ ...e, source: undefined }), /source must be an object/],
    ['empty stream', (e) => ({ ...e, source: { ...e.source, stream: '' } }), /source\.stream must be a non-empty string/],
    ['negative partition', (e) => ({ ...e, source: { ...e.source, partition: -1 } }), /source\.partition must be an integer of at least 0/],
    ['attempt 0', (e) => ({ ...e, batch: { ...e.batch, attempt: 0 } }), /batch\.attempt must be an integer of at least 1/],
    ['fractional offset', (e) => ({ ...e, batch: { ...e.batch, firstOffset: 1.5 } }), /batch\.firstOffset/],
    ['no trigger name', (e) => ({ ...e, trigger: { id: 't' } }), /trigger\.name/],
    ['unknown encoding', (e) => ({ ...e, encoding: 'hex' }), /encoding must be one of base64, utf8, json/],
    ['records not an array', (e) => ({ ...e, records: {} }), /records must be an array/],
    ['record not an object', (e) => ({ ...e, records: ['x'] }), /records\[0\] must be an object/],
    ['string offset', (e) => ({ ...e, records: [{ ...e.records[0], offset: '120' }] }), /records\[0\]\.offset must be an integer/],
    ['offset out of range', (e) => ({ ...e, records: [{ ...e.records[0], offset: 220 }] }), /records\[0\]\.offset is 220, outside the batch range 120\.\.219/],
    ['offsets not ascending', (e) => ({ ...e, records: [e.records[1], e.records[0]] }), /records\[1\]\.offset is 120, not above the previous record's 125/],
    ['timestamp as string', (e) => ({ ...e, records: [{ ...e.records[0], timestamp: '2026-01-01' }] }), /records\[0\]\.timestamp must be a number/],
    ['missing value', (e) => ({ ...e, records: [{ offset: 120, timestamp: 0 }] }), /records\[0\]\.value is missing/],
    ['numeric value under base64', (e) => ({ ...e, records: [{ ...e.records[0], value: 5 }] }), /records\[0\]\.value must be a string or null under base64/],
    ['bad base64 value', (e) => ({ ...e, records: [{ ...e.records[0], value: 'not base64!' }] }), /records\[0\]\.value is not valid base64/],
    ['unpadded base64', (e) => ({ ...e, records: [{ ...e.records[0], value: 'eA' }] }), /records\[0\]\.value is not valid base64/],
    ['bad base64 key', (e) => ({ ...e, records: [{ ...e.records[0], key: '***' }] }), /records\[0\]\.key is not valid base64/],
    ['numeric key', (e) => ({ ...e, records: [{ ...e.records[0], key: 7 }] }), /records\[0\]\.key must be a string or null/],
    ['numeric header', (e) => ({ ...e, records: [{ ...e.records[0], headers: { a: 1 } }] }), /records\[0\]\.headers\["a"\] must be a string/],
    ['binary header not present', (e) => ({ ...e, records: [{ ...e.records[0], headers: {}, binaryHeaders: ['b'] }] }), /binaryHeaders names "b"/],
    ['binary header not base64', (e) => ({ ...e, records: [{ ...e.records[0], headers: { b: '%%' }, binaryHeaders: ['b'] }] }), /headers\["b"\] is not valid base64/],
  ];

  it.each(broken)('rejects %s with a BatchEventError naming the field', (_name, mutate, message) => {
    const event = mutate(valid() as BatchEventWire & Record<string, unknown>);
    let thrown: unknown;
    try {
      decodeBatchEvent(event as object);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BatchEventError);
    expect((thrown as BatchEventError).code).toBe('FNTS_ERR_FDK_BATCH_EVENT_INVALID');
    expect((thrown as Error).message).toMatch(/^invalid batch event: /);
    expect((thrown as Error).message).toMatch(message);
  });

  it('rejects text that is not JSON', () => {
    expect(() => decodeBatchEvent('{"source":')).toThrow(/invalid batch event: the event is not JSON/);
  });
});
