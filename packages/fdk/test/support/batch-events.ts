// Builds batch events exactly as the server sends them (STREAMS.md "Event shape").
import type { BatchEncoding, BatchEventWire, BatchRecordWire } from '../../src/index.js';

export interface RecordSpec {
  offset: number;
  key?: string | Buffer | null;
  value: string | Buffer | unknown;
  headers?: Record<string, string | Buffer>;
}

/** An event of `records` on `orders` partition 3, range 120..219, encoded per `encoding`. */
export function batchEvent(records: RecordSpec[], encoding: BatchEncoding = 'base64', overrides: Partial<BatchEventWire> = {}): BatchEventWire {
  return {
    source: { type: 'embedded', stream: 'orders', partition: 3 },
    batch: { id: 'b-120-219', attempt: 1, firstOffset: 120, lastOffset: 219 },
    trigger: { id: 'trg-1', name: 'orders-consumer' },
    encoding,
    records: records.map((spec) => wireRecord(spec, encoding)),
    ...overrides,
  };
}

function wireRecord(spec: RecordSpec, encoding: BatchEncoding): BatchRecordWire {
  const text = (data: unknown): unknown => {
    if (encoding === 'json' && !Buffer.isBuffer(data)) return data;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
    return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
  };
  const headers: Record<string, string> = {};
  const binaryHeaders: string[] = [];
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (Buffer.isBuffer(value)) {
      headers[name] = value.toString('base64');
      binaryHeaders.push(name);
    } else {
      headers[name] = value;
    }
  }
  // Keys travel as base64 under base64 encoding and as UTF-8 text otherwise (json too).
  const key = spec.key === undefined || spec.key === null ? null : Buffer.from(spec.key).toString(encoding === 'base64' ? 'base64' : 'utf8');
  return {
    offset: spec.offset,
    timestamp: 1767225600000 + spec.offset,
    key,
    value: text(spec.value),
    headers,
    binaryHeaders,
  };
}
