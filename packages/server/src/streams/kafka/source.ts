import type { Logger } from 'pino';
import { redriveLetters } from '../engine/dead-letters.js';
import { interruptibleSleep } from '../engine/sleep.js';
import {
  resolveStartOffsets, type AssignmentListener, type CommitAfterLetters, type CommitFence, type DeadLetterRecord, type OffsetBounds, type RedriveResult, type SourceRecord,
  type StartPosition, type StreamSource,
} from '../engine/source.js';
import type { GroupConsumer, KafkaClient, KafkaLookup, KafkaProducer, KafkaRecord } from './client.js';
import { deadLetterRecords, kafkaDeadLetterLog } from './dead-letters.js';
import { toSourceRecord, type KafkaSourceRecord } from './headers.js';
import type { KafkaSourceSpec } from './options.js';

/**
 * A Kafka topic as a trigger source (STREAMS.md §15).
 *
 * The engine pulls (`fetch(partition, offset)`); the client pushes (`records`). Each assigned partition has a buffer
 * of records fetched ahead, covering offsets [base, position): `position` is where the client delivers next, `base` the
 * lowest offset the engine may still ask for (its committed offset). A fetch inside that range is served from the
 * buffer (records below the asked offset are done and dropped); a fetch outside it (a redelivery below the buffer, a
 * seek, the first fetch after an assignment) seeks the client there and empties the buffer. A buffer holding
 * `max_buffered_bytes` pauses fetching of its partition; the engine draining it below half resumes it.
 *
 * Assignment changes come from the group protocol (cooperative-sticky) and go to the engine through the listener,
 * one at a time. On revoke the engine drains the partition's batch in flight (it may still commit), fences it, and only
 * then is the partition released; from then on commits for it are discarded here as well ("drain then fence").
 */

interface PartitionBuffer {
  records: KafkaSourceRecord[];
  bytes: number;
  /** Lowest offset the engine may still ask for; undefined until anchored by a delivery or a seek. */
  base: number | undefined;
  /** Where the client delivers next. */
  position: number | undefined;
  /** Fetching is paused because the buffer is full. */
  paused: boolean;
  /** A revoke is in progress: the engine gets nothing more from this partition. */
  releasing: boolean;
  waiters: Set<() => void>;
}

export interface KafkaSourceOptions {
  client: KafkaClient;
  spec: KafkaSourceSpec;
  groupId: string;
  /** group.instance.id for static membership; undefined for a dynamic member. */
  instanceId: string | undefined;
  /** Read on every delivery, so an update applies at once. */
  maxBufferedBytes: () => number;
  /** Records handed over per client delivery. */
  maxBatch: number;
  log: Logger;
}

const PARTITIONS_TTL_MS = 30_000;

const sizeOf = (r: SourceRecord) => r.value.length + (r.key?.length ?? 0);

export class KafkaSource implements StreamSource {
  readonly type = 'kafka' as const;
  private readonly parts = new Map<number, PartitionBuffer>();
  private listener: AssignmentListener | undefined;
  private consumer: GroupConsumer | undefined;
  private lookupClient: Promise<KafkaLookup> | undefined;
  private producerClient: Promise<KafkaProducer> | undefined;
  /** Assignment announcements, one at a time and in order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly closer = new AbortController();
  private released = false;
  private connecting: Promise<void> | undefined;
  private lastError: string | undefined;
  private connected = false;
  private discardedCommits = 0;
  private allPartitions: { at: number; partitions: number[] } | undefined;

  constructor(private readonly o: KafkaSourceOptions) {}

  get name(): string {
    return this.o.spec.topic;
  }

  onAssignment(listener: AssignmentListener): void {
    this.listener = listener;
  }

  /** Joins the group in the background, retrying while the brokers cannot be reached. */
  async start(): Promise<void> {
    this.connecting ??= this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let wait = 1000;
    while (!this.closer.signal.aborted) {
      const consumer = this.o.client.groupConsumer(
        { topic: this.o.spec.topic, groupId: this.o.groupId, instanceId: this.o.instanceId, maxBatch: this.o.maxBatch },
        {
          records: (p, records) => this.delivered(p, records),
          assigned: (partitions) => this.assigned(partitions),
          revoked: (partitions, lost) => this.revoked(partitions, lost),
        },
      );
      this.consumer = consumer;
      try {
        await consumer.start();
        this.connected = true;
        this.lastError = undefined;
        this.o.log.info({ group_id: this.o.groupId, member: this.o.instanceId ?? null }, 'kafka consumer joining the group');
        return;
      } catch (err) {
        this.lastError = `cannot consume from Kafka (${this.o.spec.brokers.join(',')}): ${(err as Error).message}`;
        this.o.log.warn({ err, wait_ms: wait }, 'kafka consumer could not start; retrying');
        await consumer.close().catch(() => undefined);
        if (this.consumer === consumer) this.consumer = undefined;
        await interruptibleSleep(wait, [this.closer.signal]);
        wait = Math.min(wait * 2, 30_000);
      }
    }
  }

  // ---- client events ----

  private delivered(partition: number, records: KafkaRecord[]): boolean {
    const st = this.parts.get(partition);
    if (!st || st.releasing) return true;
    for (const r of records) {
      // Anything below the position was delivered already (the client may go back to where a pause happened).
      if (st.position !== undefined && r.offset < st.position) continue;
      const rec = toSourceRecord(r);
      st.records.push(rec);
      st.bytes += sizeOf(rec);
      st.base ??= rec.offset;
      st.position = rec.offset + 1;
    }
    wake(st);
    if (!st.paused && st.bytes >= this.o.maxBufferedBytes()) {
      st.paused = true;
      this.o.log.debug({ partition, buffered_bytes: st.bytes, position: st.position }, 'kafka fetching paused: buffer full');
      return false;
    }
    return !st.paused;
  }

  private assigned(partitions: number[]): void {
    if (this.released) return;
    const fresh = partitions.filter((p) => !this.parts.has(p));
    for (const p of fresh) {
      this.parts.set(p, { records: [], bytes: 0, base: undefined, position: undefined, paused: false, releasing: false, waiters: new Set() });
    }
    if (fresh.length === 0) return;
    this.o.log.info({ partitions: fresh, group_id: this.o.groupId }, 'kafka partitions assigned');
    void this.announce({ assigned: fresh, revoked: [], lost: false });
  }

  private async revoked(partitions: number[], lost: boolean): Promise<void> {
    const mine = partitions.filter((p) => this.parts.has(p) && !(this.parts.get(p) as PartitionBuffer).releasing);
    if (mine.length === 0) return;
    this.o.log.info({ partitions: mine, lost, group_id: this.o.groupId }, 'kafka partitions revoked: draining');
    await this.handBack(mine, lost);
    this.o.log.info({ partitions: mine, group_id: this.o.groupId }, 'kafka partitions released');
  }

  /** Stops serving the partitions, lets the engine drain and fence them, then forgets them (commits are discarded after). */
  private async handBack(partitions: number[], lost: boolean): Promise<void> {
    for (const p of partitions) {
      const st = this.parts.get(p) as PartitionBuffer;
      st.releasing = true;
      wake(st);
    }
    await this.announce({ assigned: [], revoked: partitions, lost });
    const resume: number[] = [];
    for (const p of partitions) {
      // A partition this member paused must not stay paused in the client if it comes back.
      if (this.parts.get(p)?.paused) resume.push(p);
      this.parts.delete(p);
    }
    if (!lost && resume.length > 0) this.consumer?.resume(resume);
  }

  private announce(change: Parameters<AssignmentListener>[0]): Promise<void> {
    const run = async () => {
      try {
        await this.listener?.(change);
      } catch (err) {
        this.o.log.error({ err, change }, 'stream engine failed to apply a kafka assignment change');
      }
    };
    const next = this.chain.then(run);
    this.chain = next;
    return next;
  }

  // ---- StreamSource ----

  async partitions(): Promise<number[]> {
    return [...this.parts].filter(([, st]) => !st.releasing).map(([p]) => p).sort((a, b) => a - b);
  }

  /** Low and high watermarks of every partition of the topic. */
  async bounds(): Promise<OffsetBounds> {
    const lookup = await this.lookup();
    const marks = await lookup.watermarks(this.o.spec.topic, await this.topicPartitions());
    return new Map([...marks].map(([p, w]) => [p, { start: w.low, end: w.high }]));
  }

  async resolve(position: StartPosition): Promise<Map<number, number>> {
    const bounds = await this.bounds();
    let byTime: Map<number, number | undefined> | undefined;
    if (typeof position === 'object' && 'timestamp' in position) {
      const lookup = await this.lookup();
      byTime = await lookup.offsetsForTime(this.o.spec.topic, [...bounds.keys()], position.timestamp);
    }
    return resolveStartOffsets(position, bounds, byTime);
  }

  async fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): Promise<SourceRecord[]> {
    const st = this.parts.get(partition);
    if (!st || st.releasing || this.closer.signal.aborted) return [];
    if (st.position === undefined || st.base === undefined || offset < st.base || offset > st.position) {
      this.reposition(partition, st, offset);
      return [];
    }
    let drop = 0;
    while (drop < st.records.length && (st.records[drop] as KafkaSourceRecord).offset < offset) {
      st.bytes -= sizeOf(st.records[drop] as KafkaSourceRecord);
      drop++;
    }
    if (drop > 0) st.records.splice(0, drop);
    st.base = offset;
    if (st.paused && st.bytes < this.o.maxBufferedBytes() / 2) {
      st.paused = false;
      this.o.log.debug({ partition, buffered_bytes: st.bytes, position: st.position }, 'kafka fetching resumed');
      this.consumer?.resume([partition]);
    }
    const out: SourceRecord[] = [];
    let bytes = 0;
    for (const r of st.records) {
      if (out.length >= maxRecords) break;
      const size = sizeOf(r);
      // A record larger than maxBytes still goes, alone, rather than stalling the partition.
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(r);
    }
    return out;
  }

  /** Moves the client to `offset` for this partition: what was buffered is dropped, deliveries restart there. */
  private reposition(partition: number, st: PartitionBuffer, offset: number): void {
    this.o.log.debug({ partition, offset, from: st.base ?? null, to: st.position ?? null }, 'kafka seek');
    st.records = [];
    st.bytes = 0;
    st.base = offset;
    st.position = offset;
    if (st.paused) {
      st.paused = false;
      this.consumer?.resume([partition]);
    }
    this.consumer?.seek(partition, offset);
  }

  async waitForData(partition: number, offset: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const st = this.parts.get(partition);
    if (st && !st.releasing) {
      const last = st.records[st.records.length - 1];
      if (last && last.offset >= offset) return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        st?.waiters.delete(done);
        signal.removeEventListener('abort', done);
        this.closer.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      // A partition being released wakes nobody: its worker waits to be stopped instead of spinning.
      if (st && !st.releasing) st.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
      this.closer.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The group's committed offsets for every partition of the topic. */
  async committed(): Promise<Map<number, number>> {
    const lookup = await this.lookup();
    return lookup.committed(this.o.spec.topic, await this.topicPartitions());
  }

  async commit(partition: number, offset: number, fence?: CommitFence): Promise<boolean> {
    const consumer = this.consumer;
    if (!this.parts.has(partition) || !consumer) {
      // Fenced here too: the partition was released, so another member may own it now.
      this.discardedCommits++;
      this.o.log.warn({ partition, offset }, 'commit for a partition this server no longer owns: discarded');
      return false;
    }
    // Kafka commits outside any transaction of ours: the group's generation is the broker's fence, the epoch ours.
    if (fence && !fence.isCurrent()) return false;
    // Resolves once the broker has it (the client retries while the group rebalances); a failure fails the batch's
    // commit, and the worker redelivers from its last committed offset (at least once).
    await consumer.commit(partition, offset);
    this.o.log.debug({ partition, offset }, 'kafka offset committed');
    return true;
  }

  async peekTimestamp(partition: number, offset: number): Promise<number | undefined> {
    return this.parts.get(partition)?.records.find((r) => r.offset >= offset)?.timestamp;
  }

  /**
   * Produces dead letters to the Kafka dead-letter topic, then commits past them. A topic and a consumer group share
   * no transaction, so a crash between the two writes a letter again after the restart: both copies carry the
   * record's coordinates (`fnts.dlq.id`, stream/partition/offset), and redrive sends such a record once.
   */
  async writeDeadLetters(destination: string, letters: DeadLetterRecord[], commit: CommitAfterLetters): Promise<boolean> {
    if (!commit.fence.isCurrent()) return false;
    this.producerClient ??= this.o.client.producer();
    let producer: KafkaProducer;
    try {
      producer = await this.producerClient;
    } catch (err) {
      this.producerClient = undefined;
      throw err;
    }
    await producer.send(destination, deadLetterRecords(letters, this.o.groupId));
    return this.commit(commit.partition, commit.offset, commit.fence);
  }

  /** Redrive from the dead-letter topic: this group's letters, from where the group's last redrive stopped. */
  async redriveDeadLetters(destination: string, deliver: (letter: SourceRecord) => Promise<string | undefined>): Promise<RedriveResult> {
    const lookup = await this.o.client.lookup(`${this.o.groupId}.redrive`);
    try {
      return await redriveLetters(kafkaDeadLetterLog(lookup, destination, this.o.groupId), deliver);
    } finally {
      await lookup.close().catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const owned = [...this.parts].filter(([, st]) => !st.releasing).map(([p]) => p);
    if (owned.length > 0) {
      this.o.log.info({ partitions: owned, group_id: this.o.groupId }, 'kafka partitions handed back for shutdown: draining');
      await this.handBack(owned, false);
      this.o.log.info({ partitions: owned, group_id: this.o.groupId }, 'kafka partitions released');
    }
  }

  async close(): Promise<void> {
    await this.release();
    this.closer.abort();
    // A consumer still trying to reach the brokers is not waited for long: closing it ends the attempt.
    await Promise.race([this.connecting, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.consumer?.close().catch((err: unknown) => this.o.log.warn({ err }, 'kafka consumer close failed'));
    await this.connecting;
    for (const st of this.parts.values()) wake(st);
    this.parts.clear();
    const lookup = this.lookupClient;
    const producer = this.producerClient;
    await Promise.all([
      lookup?.then((l) => l.close()).catch(() => undefined),
      producer?.then((p) => p.close()).catch(() => undefined),
    ]);
  }

  describe(): Record<string, unknown> {
    return {
      topic: this.o.spec.topic,
      brokers: this.o.spec.brokers,
      group_id: this.o.groupId,
      member_id: this.o.instanceId ?? null,
      connected: this.connected,
      assigned: [...this.parts.keys()].sort((a, b) => a - b),
      discarded_commits: this.discardedCommits,
      last_error: this.lastError ?? null,
    };
  }

  private lookup(): Promise<KafkaLookup> {
    this.lookupClient ??= this.o.client.lookup(this.o.groupId).catch((err: unknown) => {
      this.lookupClient = undefined;
      throw err;
    });
    return this.lookupClient;
  }

  private async topicPartitions(): Promise<number[]> {
    if (this.allPartitions && Date.now() - this.allPartitions.at < PARTITIONS_TTL_MS) return this.allPartitions.partitions;
    const lookup = await this.lookup();
    const partitions = await lookup.partitions(this.o.spec.topic);
    if (!partitions) throw new Error(`Kafka topic "${this.o.spec.topic}" does not exist`);
    this.allPartitions = { at: Date.now(), partitions };
    return partitions;
  }
}

function wake(st: PartitionBuffer): void {
  for (const w of [...st.waiters]) w();
}
