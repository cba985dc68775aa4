import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeInput, describeError, encodeOutput, isJsonContentType, parseDeadline } from '../src/codec.js';
import { rawResult } from '../src/result.js';

describe('decodeInput', () => {
  const bytes = Buffer.from('{"a":"é"}', 'utf8');

  it('parses JSON in json mode, returns the text when it is not JSON, and "" for an empty body', () => {
    expect(decodeInput(bytes, 'json')).toEqual({ a: 'é' });
    expect(decodeInput(Buffer.from('{oops'), 'json')).toBe('{oops');
    expect(decodeInput(Buffer.alloc(0), 'json')).toBe('');
    expect(decodeInput(Buffer.from('42'), 'json')).toBe(42);
  });

  it('returns the text in string mode and the same bytes in buffer mode', () => {
    expect(decodeInput(bytes, 'string')).toBe('{"a":"é"}');
    expect(decodeInput(bytes, 'buffer')).toBe(bytes);
  });

  it('replays a whole body as a stream in stream mode', async () => {
    const stream = decodeInput(bytes, 'stream') as Readable;
    expect(stream).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(bytes);
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/vnd.api+json', true],
    ['text/plain', false],
    ['application/octet-stream', false],
  ])('%s → %s', (type, json) => expect(isJsonContentType(type)).toBe(json));
});

describe('encodeOutput', () => {
  const text = (value: unknown, type: string | null) => {
    const encoded = encodeOutput(value, type);
    if (!encoded.ok) throw encoded.error;
    return encoded.body.toString('utf8');
  };

  it.each([
    [undefined, 'application/json', ''],
    [null, 'text/plain', ''],
    ['done', 'application/json', '"done"'],
    ['done', 'text/plain', 'done'],
    [42, 'text/plain', '42'],
    [false, 'text/csv', 'false'],
    [12n, 'text/plain', '12'],
    [{ a: [1] }, 'text/plain', '{"a":[1]}'],
    [{ a: [1] }, 'application/json; charset=utf-8', '{"a":[1]}'],
    [Buffer.from('bytes'), 'application/json', 'bytes'],
    [new Uint8Array([104, 105]), 'text/plain', 'hi'],
    [rawResult('{raw'), 'application/json', '{raw'],
    [rawResult(Buffer.from('b')), 'text/plain', 'b'],
  ])('%o under %s → %s', (value, type, expected) => {
    expect(text(value, type)).toBe(expected);
  });

  it('writes only the view’s own bytes of a typed array', () => {
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const encoded = encodeOutput(view, 'application/octet-stream');
    expect(encoded.ok && [...encoded.body]).toEqual([2, 3]);
  });

  it('chooses JSON, and says so, when the content type was removed', () => {
    expect(encodeOutput({ a: 1 }, null)).toEqual({ ok: true, body: Buffer.from('{"a":1}'), contentType: 'application/json' });
    expect(encodeOutput(Buffer.from('x'), null)).toEqual({ ok: true, body: Buffer.from('x') });
  });

  it('returns an error, never throws, for values that cannot be written', () => {
    const circular: Record<string, unknown> = {};
    circular['me'] = circular;
    for (const [value, type] of [
      [10n, 'application/json'],
      [circular, 'text/plain'],
      [() => 1, 'text/plain'],
      [Symbol('s'), 'application/json'],
      [{ toJSON: () => undefined }, 'application/json'],
    ] as const) {
      const encoded = encodeOutput(value, type);
      expect(encoded.ok).toBe(false);
      expect(!encoded.ok && encoded.error).toBeInstanceOf(Error);
    }
  });
});

describe('rawResult', () => {
  it('throws a TypeError for anything but a string or bytes', () => {
    expect(() => rawResult(5 as never)).toThrow(/expects a string or a Uint8Array\/Buffer, got number/);
  });
});

describe('parseDeadline', () => {
  it.each([
    ['2026-11-22T20:25:02Z', '2026-11-22T20:25:02.000Z'],
    ['2026-11-22T20:25:02.123456789Z', '2026-11-22T20:25:02.123Z'],
    ['2026-11-22T20:25:02.5+01:30', '2026-11-22T18:55:02.500Z'],
    ['2026-11-22t20:25:02-05:00', '2026-11-23T01:25:02.000Z'],
    ['2024-02-29T00:00:00z', '2024-02-29T00:00:00.000Z'],
  ])('%s → %s', (value, iso) => {
    expect(parseDeadline(value)?.toISOString()).toBe(iso);
  });

  it.each([
    [null], [undefined], [''], ['tomorrow'], ['2026-11-22T20:25:02'], ['2026-11-22'], ['1700000000'],
    ['2026-13-01T00:00:00Z'], ['2025-02-29T00:00:00Z'], ['2026-11-22T24:00:00Z'], ['2026-11-22T20:25:02+25:00'],
  ])('rejects %s', (value) => {
    expect(parseDeadline(value)).toBeNull();
  });
});

describe('describeError', () => {
  it('uses toString like fdk-node and survives values that refuse to be strings', () => {
    expect(describeError(new RangeError('r'))).toBe('RangeError: r');
    expect(describeError('plain')).toBe('plain');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError(Object.create(null))).toBe('[object Object]');
    expect(describeError({ toString: () => { throw new Error('no'); } })).toBe('[object Object]');
  });
});
