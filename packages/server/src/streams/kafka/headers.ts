import type { SourceRecord } from '../engine/source.js';
import type { KafkaRecord } from './client.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A Kafka record as the engine sees it, with the header bytes kept for dead letters. */
export interface KafkaSourceRecord extends SourceRecord {
  rawHeaders: [string, Buffer][];
}

/**
 * Kafka header values as text: UTF-8 where they are, base64 otherwise; the last of repeated names. The CLI's
 * `stream tail` shows them the same way a trigger's function sees them.
 */
export function headerMap(pairs: readonly [string, Buffer][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    try {
      out[name] = utf8.decode(value);
    } catch {
      out[name] = value.toString('base64');
    }
  }
  return out;
}

/** A Kafka record as the engine reads it: headers as text, their bytes kept. */
export function toSourceRecord(r: KafkaRecord): KafkaSourceRecord {
  return {
    partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value,
    headers: headerMap(r.headers), rawHeaders: r.headers,
  };
}
