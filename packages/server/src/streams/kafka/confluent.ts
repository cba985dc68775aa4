import { createRequire } from 'node:module';
import type * as Ckjs from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { KafkaSettings } from '../../config.js';
import type { GroupConsumer, GroupConsumerEvents, GroupConsumerOptions, KafkaClient, KafkaLookup, KafkaRecord } from './client.js';

/**
 * Everything that knows @confluentinc/kafka-javascript lives in this file: the Kafka source (source.ts) sees
 * only the interfaces in client.ts, so another client (e.g. @platformatic/kafka) can be tried by writing one more
 * implementation of `KafkaClient`.
 *
 * The client's KafkaJS-compatible API runs the group consumer (subscribe, eachBatch, cooperative rebalancing
 * through `rebalance_cb`, pause/resume/seek, manual commits). Lookups that need no group membership (partitions,
 * watermarks, offsets by time, a group's committed offsets, the first commit of a new group) go through the
 * library's plain `KafkaConsumer`, which needs only the oldest Kafka APIs (Metadata, ListOffsets, OffsetFetch,
 * OffsetCommit); the KafkaJS admin's newer calls are not served by every broker (librdkafka's mock, OCI Streaming).
 */


type Module = typeof Ckjs;

/** The npm package that holds the Kafka client: an optional dependency of the server, compiled against librdkafka. */
export const KAFKA_CLIENT_PACKAGE = '@confluentinc/kafka-javascript';

/** How to get the client where it is missing; the API error and the CLI's hint say it. */
export const KAFKA_CLIENT_INSTALL_HINT =
  `install it where @fnts/server is installed: \`npm install ${KAFKA_CLIENT_PACKAGE}\` (it compiles against librdkafka; on Debian: \`apt-get install librdkafka-dev\` first)`;

/**
 * The Kafka client package is not installed (npm left the optional dependency out, or dropped it when it failed to
 * compile), or is installed but does not load (its native addon or librdkafka is missing).
 */
export class KafkaClientMissing extends Error {
  constructor(readonly packageName: string, cause: unknown, installed = false) {
    super(installed
      ? `the Kafka client (${packageName}) is installed but does not load (${String((cause as Error).message ?? cause).split('\n')[0]})`
      : `the Kafka client (${packageName}) is not installed on this machine`, { cause });
    this.name = 'KafkaClientMissing';
  }

  /** By name, not instanceof: the CLI and a test may hold two copies of this module (the built one and the source). */
  static is(err: unknown): err is KafkaClientMissing {
    return err instanceof Error && err.name === 'KafkaClientMissing';
  }
}

let loaded: Module | undefined;

/**
 * Loads the client package once. `name` is the seam a test points at a package that does not exist, to see the
 * error an install without the optional dependency gives.
 */
export function loadKafkaModule(name: string = KAFKA_CLIENT_PACKAGE): Module {
  if (loaded && name === KAFKA_CLIENT_PACKAGE) return loaded;
  let mod: Module;
  try {
    mod = createRequire(import.meta.url)(name) as Module;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const missing = code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`);
    throw new KafkaClientMissing(name, err, !missing);
  }
  if (name === KAFKA_CLIENT_PACKAGE) loaded = mod;
  return mod;
}

/** The native addon loads on first use: a server without Kafka triggers never needs it. */
function ckjs(): Module {
  return loaded ?? loadKafkaModule();
}

const LOOKUP_TIMEOUT_MS = 10_000;

/** librdkafka properties for the brokers and the server's security settings. */
function connectionConfig(brokers: string[], settings: KafkaSettings, clientId: string): Record<string, string | number | boolean> {
  const conf: Record<string, string | number | boolean> = {
    'bootstrap.servers': brokers.join(','),
    'client.id': clientId,
    'security.protocol': settings.securityProtocol,
  };
  if (settings.sasl) {
    conf['sasl.mechanisms'] = settings.sasl.mechanism;
    conf['sasl.username'] = settings.sasl.username;
    conf['sasl.password'] = settings.sasl.password;
  }
  if (settings.sslCaLocation) conf['ssl.ca.location'] = settings.sslCaLocation;
  if (settings.sslCertificateLocation) conf['ssl.certificate.location'] = settings.sslCertificateLocation;
  if (settings.sslKeyLocation) conf['ssl.key.location'] = settings.sslKeyLocation;
  if (settings.sslKeyPassword) conf['ssl.key.password'] = settings.sslKeyPassword;
  return conf;
}

/** The client's log lines go to the server's logger, one level down (librdkafka's errors are mostly retried). */
function kafkaLogger(log: Logger): Ckjs.KafkaJS.Logger {
  const adapter: Ckjs.KafkaJS.Logger = {
    info: (message, extra) => log.debug({ kafka: extra }, message),
    error: (message, extra) => log.warn({ kafka: extra }, message),
    warn: (message, extra) => log.warn({ kafka: extra }, message),
    debug: (message, extra) => log.trace({ kafka: extra }, message),
    namespace: () => adapter,
    setLogLevel: () => undefined,
  };
  return adapter;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer {
  if (v === null || v === undefined) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function headerPairs(headers: Ckjs.KafkaJS.IHeaders | undefined): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, toBuffer(v)]);
  }
  return out;
}

function callback<T>(run: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((err, value) => (err ? reject(err instanceof Error ? err : new Error(String((err as { message?: string }).message ?? err))) : resolve(value)));
  });
}

/** How long a commit may take to be confirmed by the broker (retried meanwhile) before it counts as failed. */
const COMMIT_CONFIRM_MS = 15_000;

/**
 * Commits and waits until the broker has the offsets. The library's commits are asynchronous (they resolve once
 * queued, and a rejected commit is only reported to a poll loop), and a broker refuses commits while the group
 * rebalances: so each commit is read back through OffsetFetch (answered without polling) and repeated until it holds.
 */
async function confirmedCommit(
  commit: () => Promise<unknown>,
  read: () => Promise<Map<number, number>>,
  offsets: Map<number, number>,
): Promise<void> {
  const until = Date.now() + COMMIT_CONFIRM_MS;
  let wait = 50;
  for (;;) {
    await commit();
    // Reading back at once is slow with librdkafka (the fetch waits ~15 ms behind the commit); a moment later it is ~1 ms.
    await new Promise((resolve) => setTimeout(resolve, 1));
    const got = await read();
    const missing = [...offsets].filter(([p, o]) => got.get(p) !== o);
    if (missing.length === 0) return;
    if (Date.now() > until) {
      throw new Error(`the broker did not take the commit of ${missing.map(([p, o]) => `partition ${p} offset ${o} (it has ${got.get(p) ?? 'none'})`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 1000);
  }
}

/** The @confluentinc/kafka-javascript implementation; `clientPackage` is the loader seam of loadKafkaModule. */
export function confluentKafkaClient(brokers: string[], settings: KafkaSettings, log: Logger, clientPackage?: string): KafkaClient {
  // Loaded here, so a missing package is a KafkaClientMissing when the client is made, before any connection.
  loadKafkaModule(clientPackage);
  const logger = kafkaLogger(log);
  return {
    groupConsumer: (options, events) => new ConfluentGroupConsumer(brokers, settings, logger, options, events),
    lookup: async (groupId) => {
      const { KafkaConsumer } = ckjs();
      // Never subscribed, so never a member of the group: it reads and (while the group is empty) writes its offsets.
      const client = new KafkaConsumer({
        ...connectionConfig(brokers, settings, `${settings.clientId}-lookup`),
        'group.id': groupId,
        'enable.auto.commit': false,
        'allow.auto.create.topics': false,
        log_level: 3,
      } as Ckjs.ConsumerGlobalConfig, {});
      client.on('event.error', (err) => log.debug({ err: err.message }, 'kafka lookup client error'));
      await callback<unknown>((cb) => client.connect({ timeout: LOOKUP_TIMEOUT_MS }, cb));
      return new ConfluentLookup(client, brokers, settings, logger);
    },
    producer: async () => {
      const { KafkaJS } = ckjs();
      const producer = new KafkaJS.Kafka({}).producer({
        ...connectionConfig(brokers, settings, `${settings.clientId}-dlq`),
        acks: -1,
        'linger.ms': 5,
        'message.timeout.ms': 30_000,
        kafkaJS: { logger, logLevel: KafkaJS.logLevel.WARN },
      } as Ckjs.KafkaJS.ProducerConstructorConfig);
      await producer.connect();
      return {
        async send(topic, records) {
          await producer.send({
            topic,
            messages: records.map((r) => {
              const headers: Ckjs.KafkaJS.IHeaders = {};
              for (const [name, value] of r.headers) {
                const prev = headers[name];
                if (prev === undefined) headers[name] = value;
                else headers[name] = [...(Array.isArray(prev) ? prev : [prev]), value];
              }
              return { key: r.key, value: r.value, headers };
            }),
          });
        },
        close: () => producer.disconnect(),
      };
    },
  };
}

class ConfluentGroupConsumer implements GroupConsumer {
  private consumer: Ckjs.KafkaJS.Consumer | undefined;
  private closed = false;

  constructor(
    private readonly brokers: string[],
    private readonly settings: KafkaSettings,
    private readonly logger: Ckjs.KafkaJS.Logger,
    private readonly options: GroupConsumerOptions,
    private readonly events: GroupConsumerEvents,
  ) {}

  async start(): Promise<void> {
    const { KafkaJS } = ckjs();
    const { topic } = this.options;
    const session = this.settings.sessionTimeoutMs;
    const rebalance = async (err: { code: number; message: string }, assignment: { topic: string; partition: number }[], fns?: { assignmentLost(): boolean }) => {
      const partitions = assignment.filter((a) => a.topic === topic).map((a) => a.partition);
      if (err.code === KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS) {
        // The library applies the assignment when this returns; announce it right after.
        setImmediate(() => this.events.assigned(partitions));
      } else if (err.code === KafkaJS.ErrorCodes.ERR__REVOKE_PARTITIONS) {
        await this.events.revoked(partitions, fns?.assignmentLost() ?? false);
      } else {
        this.logger.error(`rebalance error: ${err.message}`);
      }
    };
    const consumer = new KafkaJS.Kafka({}).consumer({
      ...connectionConfig(this.brokers, this.settings, this.settings.clientId),
      'group.id': this.options.groupId,
      ...(this.options.instanceId ? { 'group.instance.id': this.options.instanceId } : {}),
      'enable.auto.commit': false,
      // Offsets are committed when a trigger is created; a partition without one starts at the beginning (nothing skipped).
      'auto.offset.reset': 'earliest',
      'partition.assignment.strategy': 'cooperative-sticky',
      'session.timeout.ms': session,
      'heartbeat.interval.ms': Math.max(100, Math.min(3000, Math.floor(session / 3))),
      'allow.auto.create.topics': false,
      'js.consumer.max.batch.size': this.options.maxBatch,
      rebalance_cb: rebalance,
      kafkaJS: { logger: this.logger, logLevel: KafkaJS.logLevel.WARN },
    } as unknown as Ckjs.KafkaJS.ConsumerConstructorConfig);
    this.consumer = consumer;
    await consumer.connect();
    if (this.closed) {
      await consumer.disconnect();
      return;
    }
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      partitionsConsumedConcurrently: 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, pause }) => {
        if (batch.topic !== topic || batch.messages.length === 0) return;
        const records: KafkaRecord[] = batch.messages.map((m) => ({
          partition: batch.partition,
          offset: Number(m.offset),
          timestamp: Number(m.timestamp),
          key: m.key ?? null,
          value: m.value ?? Buffer.alloc(0),
          headers: headerPairs(m.headers),
        }));
        const more = this.events.records(batch.partition, records);
        // Everything was handed over: a pause resumes after the last record, not at the batch start.
        resolveOffset((batch.messages[batch.messages.length - 1] as Ckjs.KafkaJS.KafkaMessage).offset);
        if (!more) pause();
      },
    });
  }

  pause(partitions: number[]): void {
    if (partitions.length > 0 && this.consumer) this.consumer.pause([{ topic: this.options.topic, partitions }]);
  }

  resume(partitions: number[]): void {
    if (partitions.length > 0 && this.consumer) this.consumer.resume([{ topic: this.options.topic, partitions }]);
  }

  seek(partition: number, offset: number): void {
    this.consumer?.seek({ topic: this.options.topic, partition, offset: String(offset) });
  }

  async commit(partition: number, offset: number): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error('the consumer is not connected');
    const { topic } = this.options;
    await confirmedCommit(
      () => consumer.commitOffsets([{ topic, partition, offset: String(offset) }]),
      async () => new Map((await consumer.committed([{ topic, partition }], LOOKUP_TIMEOUT_MS)).map((c) => [c.partition, Number(c.offset)])),
      new Map([[partition, offset]]),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.consumer?.disconnect();
  }
}

interface LowLevelConsumer extends Ckjs.KafkaConsumer {
  commitCb(offsets: { topic: string; partition: number; offset: number }[], cb: (err: unknown) => void): void;
}

class ConfluentLookup implements KafkaLookup {
  constructor(
    private readonly client: Ckjs.KafkaConsumer,
    private readonly brokers: string[],
    private readonly settings: KafkaSettings,
    private readonly logger: Ckjs.KafkaJS.Logger,
  ) {}

  async partitions(topic: string): Promise<number[] | undefined> {
    const md = await callback<Ckjs.Metadata>((cb) => this.client.getMetadata({ topic, timeout: LOOKUP_TIMEOUT_MS }, cb));
    const t = md.topics.find((x) => x.name === topic);
    if (!t || t.partitions.length === 0) return undefined;
    return t.partitions.map((p) => p.id).sort((a, b) => a - b);
  }

  async watermarks(topic: string, partitions: number[]): Promise<Map<number, { low: number; high: number }>> {
    const all = await Promise.all(partitions.map(async (p) => {
      const w = await callback<Ckjs.WatermarkOffsets>((cb) => this.client.queryWatermarkOffsets(topic, p, LOOKUP_TIMEOUT_MS, cb));
      return [p, { low: w.lowOffset, high: w.highOffset }] as const;
    }));
    return new Map(all);
  }

  async offsetsForTime(topic: string, partitions: number[], timestamp: number): Promise<Map<number, number | undefined>> {
    const found = await callback<Ckjs.TopicPartitionOffset[]>((cb) =>
      this.client.offsetsForTimes(partitions.map((partition) => ({ topic, partition, offset: timestamp })), LOOKUP_TIMEOUT_MS, cb));
    return new Map(found.map((f) => [f.partition, f.offset >= 0 ? f.offset : undefined]));
  }

  async committed(topic: string, partitions: number[]): Promise<Map<number, number>> {
    const offsets = await callback<Ckjs.TopicPartitionOffsetAndMetadata[]>((cb) =>
      this.client.committed(partitions.map((partition) => ({ topic, partition })), LOOKUP_TIMEOUT_MS, cb));
    return new Map(offsets.filter((o) => typeof o.offset === 'number' && o.offset >= 0).map((o) => [o.partition, o.offset]));
  }

  async commitAsOutsider(topic: string, offsets: Map<number, number>): Promise<void> {
    if (offsets.size === 0) return;
    const client = this.client as LowLevelConsumer;
    await confirmedCommit(
      () => callback<unknown>((cb) => client.commitCb([...offsets].map(([partition, offset]) => ({ topic, partition, offset })), (err) => cb(err, undefined))),
      () => this.committed(topic, [...offsets.keys()]),
      offsets,
    );
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    const { KafkaJS } = ckjs();
    const admin = new KafkaJS.Kafka({}).admin({
      ...connectionConfig(this.brokers, this.settings, `${this.settings.clientId}-admin`),
      kafkaJS: { logger: this.logger, logLevel: KafkaJS.logLevel.NOTHING },
    } as Ckjs.KafkaJS.AdminConstructorConfig);
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], timeout: 5000 });
    } finally {
      await admin.disconnect();
    }
  }

  async read(topic: string, partition: number, from: number, max: number): Promise<KafkaRecord[]> {
    this.client.setDefaultConsumeTimeout(200);
    this.client.assign([{ topic, partition, offset: from }]);
    try {
      const out: KafkaRecord[] = [];
      const until = Date.now() + LOOKUP_TIMEOUT_MS;
      while (out.length < max && Date.now() < until) {
        const messages = await callback<Ckjs.Message[]>((cb) => this.client.consume(max - out.length, cb));
        for (const m of messages) {
          if (m.topic !== topic || m.partition !== partition || m.offset < from) continue;
          const headers: [string, Buffer][] = [];
          for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers.push([k, toBuffer(v as Buffer | string)]);
          out.push({
            partition, offset: m.offset, timestamp: m.timestamp ?? 0,
            key: m.key === undefined || m.key === null ? null : toBuffer(m.key as Buffer | string),
            value: m.value ?? Buffer.alloc(0), headers,
          });
        }
        if (messages.length === 0 && out.length > 0) break;
      }
      return out;
    } finally {
      this.client.unassign();
    }
  }

  async close(): Promise<void> {
    await callback<unknown>((cb) => this.client.disconnect(cb));
  }
}
