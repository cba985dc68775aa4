import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as Ckjs from '@confluentinc/kafka-javascript';

/**
 * A Kafka-protocol broker for tests. By default librdkafka's mock cluster (test/support/kafka-mock.c, built once per
 * source version with the machine's gcc against Debian's librdkafka-dev into the temp dir); with KAFKA_BROKERS set,
 * that real cluster instead (topics are then created through the admin API, and named uniquely by the caller).
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const MOCK_SOURCE = join(HERE, 'kafka-mock.c');
const run = promisify(execFile);
const ckjs = createRequire(resolve(HERE, '../../packages/server/package.json'))('@confluentinc/kafka-javascript') as typeof Ckjs;

export interface KafkaCluster {
  /** host:port[,host:port…] */
  brokers: string;
  /** True for the librdkafka mock, false for a real cluster from KAFKA_BROKERS. */
  mock: boolean;
  stop(): Promise<void>;
}

/** Builds the mock helper unless a binary of this exact source exists; safe when test files race (atomic rename). */
export async function buildKafkaMock(): Promise<string> {
  const source = await readFile(MOCK_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'fnts-kafka-mock');
  const bin = join(dir, `kafka-mock-${hash}`);
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  const partial = `${bin}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await run('gcc', ['-O2', '-o', partial, MOCK_SOURCE, '-lrdkafka']);
  } catch (err) {
    throw new Error(`could not build the Kafka mock (needs gcc and librdkafka-dev: apt-get install librdkafka-dev gcc): ${(err as Error).message}`);
  }
  await rename(partial, bin);
  return bin;
}

/** Starts a one-broker mock cluster with `topics` (name → partitions), or connects to KAFKA_BROKERS and creates them. */
export async function startKafka(topics: Record<string, number>): Promise<KafkaCluster> {
  const real = process.env.KAFKA_BROKERS;
  if (real) {
    await createTopics(real, topics);
    return { brokers: real, mock: false, stop: async () => undefined };
  }
  const bin = await buildKafkaMock();
  const child = spawn(bin, ['1', ...Object.entries(topics).map(([t, n]) => `${t}:${n}`)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const brokers = await new Promise<string>((resolveAddress, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the Kafka mock did not start in 10 s: ${stderr}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolveAddress(line.trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Kafka mock exited with ${code}: ${stderr}`));
    });
  });
  return {
    brokers,
    mock: true,
    // Closing its stdin stops it (it also stops if this process dies).
    stop: () => new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

async function createTopics(brokers: string, topics: Record<string, number>): Promise<void> {
  const admin = new ckjs.KafkaJS.Kafka({}).admin({ 'bootstrap.servers': brokers, kafkaJS: { logLevel: ckjs.KafkaJS.logLevel.NOTHING } } as Ckjs.KafkaJS.AdminConstructorConfig);
  await admin.connect();
  try {
    await admin.createTopics({ topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions })) });
  } finally {
    await admin.disconnect();
  }
}

export interface TestRecord {
  key?: string | Buffer | null;
  value: string | Buffer;
  partition?: number;
  headers?: Record<string, string | Buffer>;
}

/** Produces records (acks=all) and resolves once all are written; returns their partition/offset. */
export async function produce(brokers: string, topic: string, records: TestRecord[]): Promise<{ partition: number; offset: number }[]> {
  const producer = new ckjs.KafkaJS.Kafka({}).producer({
    'bootstrap.servers': brokers, acks: -1, 'linger.ms': 0, kafkaJS: { logLevel: ckjs.KafkaJS.logLevel.NOTHING },
  } as Ckjs.KafkaJS.ProducerConstructorConfig);
  await producer.connect();
  try {
    const out: { partition: number; offset: number }[] = [];
    // One at a time keeps the order of records per partition and the offsets known.
    for (const r of records) {
      const [meta] = await producer.send({
        topic,
        messages: [{ key: r.key ?? null, value: r.value, headers: r.headers, ...(r.partition !== undefined ? { partition: r.partition } : {}) }],
      });
      out.push({ partition: meta?.partition ?? -1, offset: Number(meta?.baseOffset ?? meta?.offset ?? -1) });
    }
    return out;
  } finally {
    await producer.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, Buffer>;
}

function promised<T>(f: (cb: (err: unknown, v: T) => void) => void): Promise<T> {
  return new Promise((res, rej) => f((err, v) => (err ? rej(err instanceof Error ? err : new Error(String(err))) : res(v))));
}

/** Reads every record of a topic up to its current end (assign, not subscribe: no group involved). */
export async function readAll(brokers: string, topic: string, timeoutMs = 15_000): Promise<ReadRecord[]> {
  const c = new ckjs.KafkaConsumer({
    'bootstrap.servers': brokers, 'group.id': `fnts-test-read-${randomBytes(4).toString('hex')}`, 'enable.auto.commit': false, log_level: 3,
  } as Ckjs.ConsumerGlobalConfig, {});
  c.on('event.error', () => undefined);
  await promised<unknown>((cb) => c.connect({ timeout: 10_000 }, cb));
  try {
    const md = await promised<Ckjs.Metadata>((cb) => c.getMetadata({ topic, timeout: 10_000 }, cb));
    const parts = md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    const ends = new Map<number, number>();
    for (const p of parts) ends.set(p, (await promised<Ckjs.WatermarkOffsets>((cb) => c.queryWatermarkOffsets(topic, p, 10_000, cb))).highOffset);
    const want = [...ends.values()].reduce((a, b) => a + b, 0);
    c.assign(parts.map((partition) => ({ topic, partition, offset: 0 })));
    const out: ReadRecord[] = [];
    const until = Date.now() + timeoutMs;
    while (out.length < want && Date.now() < until) {
      const batch = await promised<Ckjs.Message[]>((cb) => c.consume(100, cb));
      for (const m of batch) {
        const headers: Record<string, Buffer> = {};
        for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
        out.push({ partition: m.partition, offset: m.offset, key: m.key === undefined || m.key === null ? null : Buffer.from(m.key as Buffer), value: m.value ?? Buffer.alloc(0), headers });
      }
    }
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await promised<unknown>((cb) => c.disconnect(cb)).catch(() => undefined);
  }
}

/** A consumer group's committed offsets and each partition's end offset. */
export async function groupOffsets(brokers: string, groupId: string, topic: string): Promise<{ committed: Map<number, number>; end: Map<number, number> }> {
  const c = new ckjs.KafkaConsumer({ 'bootstrap.servers': brokers, 'group.id': groupId, 'enable.auto.commit': false, log_level: 3 } as Ckjs.ConsumerGlobalConfig, {});
  c.on('event.error', () => undefined);
  await promised<unknown>((cb) => c.connect({ timeout: 10_000 }, cb));
  try {
    const md = await promised<Ckjs.Metadata>((cb) => c.getMetadata({ topic, timeout: 10_000 }, cb));
    const parts = md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    const committed = await promised<Ckjs.TopicPartitionOffsetAndMetadata[]>((cb) => c.committed(parts.map((partition) => ({ topic, partition })), 10_000, cb));
    const end = new Map<number, number>();
    for (const p of parts) end.set(p, (await promised<Ckjs.WatermarkOffsets>((cb) => c.queryWatermarkOffsets(topic, p, 10_000, cb))).highOffset);
    return { committed: new Map(committed.filter((o) => typeof o.offset === 'number' && o.offset >= 0).map((o) => [o.partition, o.offset])), end };
  } finally {
    await promised<unknown>((cb) => c.disconnect(cb)).catch(() => undefined);
  }
}
