import type { OffsetBounds, SourceRecord } from '../engine/source.js';

/**
 * What the Kafka source (source.ts) needs from a Kafka client: these interfaces only, so another client library
 * (e.g. @platformatic/kafka) can be tried by writing one more implementation of `KafkaClient` (confluent.ts is one).
 */

/** A record as the broker returned it: the engine's record, but header values keep their bytes and their repetitions. */
export interface KafkaRecord extends Omit<SourceRecord, 'headers'> {
  headers: [string, Buffer][];
}

export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer;
  headers: [string, Buffer | string][];
}

export interface GroupConsumerEvents {
  /** Records of one partition, in offset order. Return false to stop fetching the partition until `resume`. */
  records(partition: number, records: KafkaRecord[]): boolean;
  /** Partitions added to this member; announced once the assignment has taken effect in the client. */
  assigned(partitions: number[]): void;
  /** Partitions taken away: the client releases them only when this settles (commits still work until then). */
  revoked(partitions: number[], lost: boolean): Promise<void>;
}

export interface GroupConsumerOptions {
  topic: string;
  groupId: string;
  /** Static membership; undefined for a dynamic member. */
  instanceId: string | undefined;
  /** The most records handed over per `records` call. */
  maxBatch: number;
}

/** One member of a consumer group, subscribed to one topic. */
export interface GroupConsumer {
  /** Connects, subscribes and starts fetching; rejects when the brokers cannot be reached (call it on a new instance to retry). */
  start(): Promise<void>;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /** Moves the fetch position of an assigned partition; records from the old position are not delivered after this. */
  seek(partition: number, offset: number): void;
  /** Commits `offset` (the next offset to read) for the group, as a member; resolves once the broker has it. */
  commit(partition: number, offset: number): Promise<void>;
  /** Leaves (a static member does not leave: its partitions wait for the session timeout) and disconnects. */
  close(): Promise<void>;
}

/** Lookups that need no group membership, for one group: partitions, watermarks, committed offsets, the first commit. */
export interface KafkaLookup {
  /** The topic's partitions, or undefined when the topic does not exist. */
  partitions(topic: string): Promise<number[] | undefined>;
  watermarks(topic: string, partitions: number[]): Promise<Map<number, { low: number; high: number }>>;
  /** The first offset at or after `timestamp` per partition; undefined where there is none (the caller uses the end). */
  offsetsForTime(topic: string, partitions: number[], timestamp: number): Promise<Map<number, number | undefined>>;
  /** The group's committed offsets (partitions without one are absent). */
  committed(topic: string, partitions: number[]): Promise<Map<number, number>>;
  /** Commits offsets for the group while it has no active member (a new trigger's start position). */
  commitAsOutsider(topic: string, offsets: Map<number, number>): Promise<void>;
  /** Best effort: creates a topic with the broker's defaults. */
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Up to `max` records of one partition from `from` on (fewer when the partition ends); not for concurrent use. */
  read(topic: string, partition: number, from: number, max: number): Promise<KafkaRecord[]>;
  close(): Promise<void>;
}

/** Watermarks as the engine's bounds (low → start, high → end); a partition without marks is empty. */
export function watermarkBounds(marks: Map<number, { low: number; high: number }>, partitions: number[]): OffsetBounds {
  return new Map(partitions.map((p) => {
    const w = marks.get(p) ?? { low: 0, high: 0 };
    return [p, { start: w.low, end: w.high }];
  }));
}

export interface KafkaProducer {
  /** Resolves once every record is acknowledged by all in-sync replicas; rejects otherwise. */
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaClient {
  groupConsumer(options: GroupConsumerOptions, events: GroupConsumerEvents): GroupConsumer;
  /** A connected lookup client for one group; rejects when the brokers cannot be reached in time. */
  lookup(groupId: string): Promise<KafkaLookup>;
  producer(): Promise<KafkaProducer>;
}
