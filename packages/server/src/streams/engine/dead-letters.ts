import type { OffsetBounds, RedriveResult, SourceRecord } from './source.js';

/** Every header a dead letter gets starts with this (STREAMS.md §8); a letter's own earlier ones are replaced. */
export const DLQ_PREFIX = 'fnts.dlq.';
/** The trigger whose letter it is: a dead-letter stream may serve several triggers. */
export const DLQ_TRIGGER_ID = `${DLQ_PREFIX}trigger-id`;
/**
 * The record's coordinates as one value, `<stream>/<partition>/<offset>` (its idempotency key, STREAMS.md §4): a
 * record dead-lettered twice (Kafka: the server died between producing the letter and committing) is recognised by it.
 */
export const DLQ_ID = `${DLQ_PREFIX}id`;
/** The Kafka consumer group whose letter it is: a dead-letter topic may serve several triggers, servers share a group. */
export const DLQ_GROUP_ID = `${DLQ_PREFIX}group-id`;

/** A record that goes to the dead-letter destination, and why. */
export interface DeadLetter {
  record: SourceRecord;
  attempts: number;
  error: string;
  status: number;
}

/** Where a dead letter came from: written into its headers so it can be redriven. */
export interface LetterOrigin {
  stream: string;
  sourceType: 'embedded' | 'kafka';
  trigger: { id: string; name: string; fnId: string };
  fnImage: string;
}

/** The headers that describe a dead letter's fate. */
export function deadLetterHeaders(l: DeadLetter, o: LetterOrigin): Record<string, string> {
  return {
    [DLQ_ID]: `${o.stream}/${l.record.partition}/${l.record.offset}`,
    [`${DLQ_PREFIX}stream`]: o.stream,
    [`${DLQ_PREFIX}source-type`]: o.sourceType,
    [`${DLQ_PREFIX}partition`]: String(l.record.partition),
    [`${DLQ_PREFIX}offset`]: String(l.record.offset),
    [`${DLQ_PREFIX}timestamp`]: String(l.record.timestamp),
    [DLQ_TRIGGER_ID]: o.trigger.id,
    [`${DLQ_PREFIX}trigger`]: o.trigger.name,
    [`${DLQ_PREFIX}fn-id`]: o.trigger.fnId,
    [`${DLQ_PREFIX}fn-image`]: o.fnImage,
    [`${DLQ_PREFIX}attempts`]: String(l.attempts),
    [`${DLQ_PREFIX}error`]: l.error,
    [`${DLQ_PREFIX}status`]: String(l.status),
  };
}

/** A dead letter as the record it was, at its original coordinates, and the attempt its redrive is. */
export function redrivenRecord(letter: Pick<SourceRecord, 'key' | 'value' | 'headers'>): { record: SourceRecord; attempt: number } {
  const h = letter.headers;
  return {
    record: {
      partition: Number(h[`${DLQ_PREFIX}partition`]), offset: Number(h[`${DLQ_PREFIX}offset`]),
      timestamp: Number(h[`${DLQ_PREFIX}timestamp`]), key: letter.key, value: letter.value, headers: h,
    },
    attempt: Number(h[`${DLQ_PREFIX}attempts`] ?? 0) + 1,
  };
}

/** A dead-letter destination as the redrive loop reads it: the embedded stream or the Kafka topic. */
export interface DeadLetterLog {
  /** How messages name it: `dead-letter stream "x"`. */
  readonly label: string;
  /** Lowest and next offsets per partition; undefined when the destination does not exist. */
  bounds(): Promise<OffsetBounds | undefined>;
  /** Where the last redrive stopped, per partition. */
  progress(): Promise<Map<number, number>>;
  /** Up to `max` letters of a partition from `offset` on. */
  read(partition: number, offset: number, max: number): Promise<SourceRecord[]>;
  saveProgress(partition: number, offset: number): Promise<void>;
  /** Whether the letter belongs to the trigger being redriven. */
  mine(letter: SourceRecord): boolean;
}

/** Letters read per request while redriving. */
const REDRIVE_CHUNK = 100;

/**
 * Sends the trigger's letters through `deliver`, one call each, in order per partition, from where the last redrive
 * stopped; progress is saved after every letter. A letter for a record already sent in this redrive (a copy written
 * twice, same `fnts.dlq.id`) is passed over. Stops at the first letter that fails again and counts what is left.
 */
export async function redriveLetters(log: DeadLetterLog, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult> {
  const bounds = await log.bounds();
  if (!bounds) return { redriven: 0, remaining: 0, error: `${log.label} does not exist` };
  const done = await log.progress();
  const sent = new Set<string>();
  let redriven = 0;
  for (const [p, { start, end }] of [...bounds].sort(([a], [b]) => a - b)) {
    let offset = Math.max(done.get(p) ?? start, start);
    let saved = offset;
    const save = async (at: number) => {
      if (at > saved) await log.saveProgress(p, at);
      saved = Math.max(saved, at);
    };
    while (offset < end) {
      const chunk = await log.read(p, offset, Math.min(REDRIVE_CHUNK, end - offset));
      if (chunk.length === 0) throw new Error(`could not read the ${log.label} partition ${p} at offset ${offset}`);
      for (const r of chunk) {
        if (r.offset >= end) break;
        const id = r.headers[DLQ_ID];
        if (log.mine(r) && !(id !== undefined && sent.has(id))) {
          const error = await deliver(r);
          if (error !== undefined) {
            await save(r.offset);
            return { redriven, remaining: await countLetters(log, bounds, new Map([...done, [p, r.offset]]), p), error };
          }
          redriven++;
          if (id !== undefined) sent.add(id);
          await save(r.offset + 1);
        }
        offset = r.offset + 1;
      }
      await save(offset);
    }
  }
  return { redriven, remaining: 0 };
}

/** The trigger's letters from `from` on, in partition `first` and the ones after it. */
async function countLetters(log: DeadLetterLog, bounds: OffsetBounds, from: Map<number, number>, first: number): Promise<number> {
  // A record's copies (same fnts.dlq.id) count once, as redrive sends them once.
  const ids = new Set<string>();
  let n = 0;
  for (const [p, { start, end }] of [...bounds].filter(([q]) => q >= first).sort(([a], [b]) => a - b)) {
    let offset = Math.max(from.get(p) ?? start, start);
    while (offset < end) {
      const chunk = await log.read(p, offset, Math.min(REDRIVE_CHUNK * 10, end - offset));
      if (chunk.length === 0) break;
      for (const r of chunk) {
        if (r.offset >= end || !log.mine(r)) continue;
        const id = r.headers[DLQ_ID];
        if (id !== undefined && ids.has(id)) continue;
        if (id !== undefined) ids.add(id);
        n++;
      }
      offset = (chunk[chunk.length - 1] as SourceRecord).offset + 1;
    }
  }
  return n;
}
