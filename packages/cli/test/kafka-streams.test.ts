// `fnts stream put|tail kafka://…`: straight against a Kafka-protocol broker (librdkafka's mock cluster from
// test/support/kafka.ts, or the cluster in KAFKA_BROKERS), with no fnts server at all.
import { randomBytes } from 'node:crypto';
import { confluentKafkaClient, type KafkaClient, type KafkaLookup, type KafkaProducer } from '@fnts/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { produce, readAll, startKafka, type KafkaCluster } from '../../../test/support/kafka.js';
import { kafkaStreamPutCommand, kafkaStreamTailCommand, type KafkaStreamDeps } from '../src/commands/streams/kafka-streams.js';
import { streamPutCommand, streamTailCommand, type StreamPutOptions } from '../src/commands/streams/streams.js';
import { buildProgram } from '../src/program.js';
import { captureContext, type Captured } from './support/harness.js';

const run = randomBytes(3).toString('hex');
/** Plain names on the throwaway mock, unique per run on a real cluster. */
const topicName = (name: string) => (process.env.KAFKA_BROKERS ? `fnts-cli-${name}-${run}` : name);
const TOPICS = { keyed: topicName('keyed'), whole: topicName('whole'), tail: topicName('tail'), follow: topicName('follow') };

let kafka: KafkaCluster;
const url = (topic: string) => `kafka://${kafka.brokers}/${topic}`;

beforeAll(async () => {
  kafka = await startKafka({ [TOPICS.keyed]: 4, [TOPICS.whole]: 1, [TOPICS.tail]: 2, [TOPICS.follow]: 2 });
}, 60_000);
afterAll(async () => {
  await kafka?.stop();
});

/** No fnts server: anything that tried to use one would fail to connect. */
const cli = (): Captured => captureContext('http://127.0.0.1:9');

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

const put = (c: Captured, opts: Omit<StreamPutOptions, 'input'>, ...input: (string | Buffer)[]) =>
  streamPutCommand({ ...opts, input: chunks(...input) }, c.ctx);

const ndjson = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('stream put kafka://', () => {
  it('puts lines with a key into one partition, in order, and says where they went', async () => {
    const c = cli();
    const result = await put(c, { stream: url(TOPICS.keyed), key: 'customer-7', header: ['source=cli'] }, 'a\nb\r\n\n', 'c\nd');
    const partition = result.offsets[0]?.partition as number;
    expect(result.offsets).toEqual([0, 1, 2, 3].map((offset) => ({ partition, offset })));
    expect(result).toMatchObject({ stream: url(TOPICS.keyed), topic: TOPICS.keyed, count: 4, offsets_unknown: 0 });
    expect(c.stderr()).toBe(`put 4 messages to ${TOPICS.keyed}: partition ${partition} offsets 0..3\n`);
    expect(c.stdout()).toBe('');

    const records = await readAll(kafka.brokers, TOPICS.keyed);
    expect(records.map((r) => [r.partition, r.offset, r.key?.toString(), r.value.toString(), r.headers.source?.toString()]))
      .toEqual(['a', 'b', 'c', 'd'].map((v, i) => [partition, i, 'customer-7', v, 'cli']));
  });

  it('puts the whole input as one message with --whole, and prints the offsets as JSON with --output json', async () => {
    const c = cli();
    await put(c, { stream: url(TOPICS.whole), whole: true, output: 'json' }, '{\n  "id": 1\n', '}\n');
    expect(JSON.parse(c.stdout())).toEqual({
      stream: url(TOPICS.whole), topic: TOPICS.whole, count: 1, offsets: [{ partition: 0, offset: 0 }], offsets_unknown: 0,
    });
    expect(c.stderr()).toBe(`put 1 message to ${TOPICS.whole}: partition 0 offset 0\n`);
    c.clear();
    // Base64 input, and nothing at all.
    await put(c, { stream: url(TOPICS.whole), base64: true }, `${Buffer.from([0xff, 0x00]).toString('base64')}\n`);
    await put(c, { stream: url(TOPICS.whole) }, '\n\n');
    expect(c.stderr()).toBe(`put 1 message to ${TOPICS.whole}: partition 0 offset 1\nput 0 messages to ${TOPICS.whole}: the input was empty\n`);
    expect((await readAll(kafka.brokers, TOPICS.whole)).map((r) => r.value)).toEqual([Buffer.from('{\n  "id": 1\n}\n'), Buffer.from([0xff, 0x00])]);
  });

  it('reports offsets as unknown when another producer wrote to the topic during a batch', async () => {
    const c = cli();
    let high = 10;
    const client = fakeClient({
      watermarks: async () => new Map([[0, { low: 0, high }]]),
      send: async (_topic, records) => void (high += records.length + 1), // one more than ours: someone else's
    });
    const result = await kafkaStreamPutCommand({ stream: 'kafka://fake:9092/t', input: chunks('a\nb\n'), output: 'json' }, c.ctx, { client: () => client, env: {} });
    expect(result).toMatchObject({ count: 2, offsets: [], offsets_unknown: 2 });
    expect(c.stderr()).toBe('put 2 messages to t (offsets of 2 unknown: another producer wrote to the topic at the same time)\n');
  });
});

describe('stream tail kafka://', () => {
  beforeAll(async () => {
    // Partition 0: k0 v0, v2, v4; partition 1: v1, v3 (and a header and a binary value on v3).
    await produce(kafka.brokers, TOPICS.tail, [
      { key: 'k0', value: 'v0', partition: 0 }, { value: 'v1', partition: 1 }, { value: 'two\nlines', partition: 0 },
      { value: Buffer.from([0xc3, 0x28]), partition: 1, headers: { trace: 'abc' } }, { value: 'v4', partition: 0 },
    ]);
  });

  it('prints partition, offset, time, key and value from the beginning, partition by partition', async () => {
    const c = cli();
    expect(await streamTailCommand({ stream: url(TOPICS.tail), fromBeginning: true }, c.ctx)).toBe(5);
    const lines = c.stdout().trimEnd().split('\n').map((l) => l.split(' '));
    expect(lines.map(([p, o, , k, v]) => [p, o, k, v])).toEqual([
      ['0', '0', 'k0', 'v0'], ['0', '1', '-', 'two\\nlines'], ['0', '2', '-', 'v4'], ['1', '0', '-', 'v1'], ['1', '1', '-', '\ufffd(' ],
    ]);
    for (const l of lines) expect(new Date(l[2] ?? '').getTime()).toBeGreaterThan(Date.now() - 120_000);
  });

  it('prints NDJSON with --output json, reads one partition, stops at --limit, and keeps bytes with --base64', async () => {
    const c = cli();
    expect(await streamTailCommand({ stream: url(TOPICS.tail), fromBeginning: true, output: 'json', partition: 0, limit: 2 }, c.ctx)).toBe(2);
    const got = ndjson(c.stdout());
    expect(got.map((m) => [m.partition, m.offset, m.key, m.value])).toEqual([[0, 0, 'k0', 'v0'], [0, 1, null, 'two\nlines']]);
    expect(got[0]).toEqual({ partition: 0, offset: 0, timestamp: expect.any(Number), key: 'k0', value: 'v0', headers: {} });
    c.clear();
    await streamTailCommand({ stream: url(TOPICS.tail), fromBeginning: true, output: 'json', partition: 1, base64: true }, c.ctx);
    expect(ndjson(c.stdout()).map((m) => [Buffer.from(m.value as string, 'base64'), m.headers]))
      .toEqual([[Buffer.from('v1'), {}], [Buffer.from([0xc3, 0x28]), { trace: 'abc' }]]);
    await expect(streamTailCommand({ stream: url(TOPICS.tail), partition: 2 }, c.ctx)).rejects.toMatchObject({
      code: 'FNTS_ERR_USAGE', message: `Kafka topic ${TOPICS.tail} has no partition 2`, hint: expect.stringContaining('its partitions are 0 to 1'),
    });
  });

  it('without --from-beginning starts at the end: nothing old, and a note saying how to see it', async () => {
    const c = cli();
    expect(await streamTailCommand({ stream: url(TOPICS.tail) }, c.ctx)).toBe(0);
    expect(c.stdout()).toBe('');
    expect(c.stderr()).toBe(`No new messages in ${TOPICS.tail}; add --from-beginning to read what is there, or --follow to wait for new ones\n`);
  });

  it('through the program: put, then tail --follow prints new messages and stops cleanly on the interruption', async () => {
    const c = cli();
    const stop = new AbortController();
    const program = (input: string) => buildProgram({
      context: () => c.ctx,
      readStdin: async () => Buffer.alloc(0),
      openStdin: () => ({ input: chunks(input), terminal: false }),
      interruption: () => ({ signal: stop.signal, release: () => undefined }),
      setExitCode: () => undefined,
    });
    await program('old\n').parseAsync(['stream', 'put', url(TOPICS.follow), '--key', 'k'], { from: 'user' });
    expect(c.stderr()).toMatch(new RegExp(`^put 1 message to ${TOPICS.follow}: partition \\d offset 0\\n$`));
    c.clear();
    // From the beginning, so the tail shows when it is following: once it has printed "old", it has read the ends
    // and waits; what is put after that reaches it only through --follow.
    const tail = program('').parseAsync(['stream', 'tail', url(TOPICS.follow), '--follow', '--from-beginning', '--output', 'json'], { from: 'user' });
    await vi.waitFor(() => expect(ndjson(c.stdout()).map((m) => m.value)).toEqual(['old']), { timeout: 20_000, interval: 20 });
    await program('n1\nn2\n').parseAsync(['stream', 'put', url(TOPICS.follow), '--key', 'k'], { from: 'user' });
    await vi.waitFor(() => expect(ndjson(c.stdout())).toHaveLength(3), { timeout: 20_000, interval: 20 });
    stop.abort();
    await tail;
    expect(ndjson(c.stdout()).map((m) => [m.offset, m.value])).toEqual([[0, 'old'], [1, 'n1'], [2, 'n2']]);
  });

  it('with --follow and --limit ends by itself after that many', async () => {
    const c = cli();
    const watched = watchingEnds();
    const tail = kafkaStreamTailCommand({ stream: url(TOPICS.follow), follow: true, limit: 1, pollMs: 50 }, c.ctx, { client: watched.client });
    // A tail without --from-beginning starts at the ends it reads first: put only once it has them.
    await watched.endsRead;
    await put(cli(), { stream: url(TOPICS.follow) }, 'x\ny\n');
    await expect(tail).resolves.toBe(1);
  });
});

describe('kafka:// errors', () => {
  it('a bad kafka:// name is a usage error naming the problem and the expected form, before anything is read', async () => {
    const c = cli();
    for (const [name, problem] of [
      ['kafka://', 'at least one broker host:port is needed'],
      ['kafka://broker/orders', 'broker "broker" needs a port (host:port)'],
      ['kafka://broker:9092', 'the topic is missing'],
      ['kafka://broker:9092/bad topic', '"bad topic" is not a valid Kafka topic name'],
      ['kafka://user:pw@broker:9092/t', 'credentials do not belong in the source'],
    ] as const) {
      const err = await put(c, { stream: name }, 'never\n').catch((e: unknown) => e);
      expect(err, name).toMatchObject({ code: 'FNTS_ERR_USAGE', message: expect.stringContaining(problem), hint: expect.stringContaining('FNTS_KAFKA_') });
      expect((err as Error).message).toContain('expected kafka://host1:9092,host2:9092/topic');
      expect((err as Error).message).not.toContain('\n');
      await expect(streamTailCommand({ stream: name }, c.ctx)).rejects.toMatchObject({ code: 'FNTS_ERR_USAGE', message: (err as Error).message });
    }
  });

  it('unreachable brokers, an unknown topic and bad FNTS_KAFKA_* settings are one line each, with a hint', async () => {
    const c = cli();
    const unreachable = fakeClient({ connect: async () => Promise.reject(new Error('broker transport failure')) });
    await expect(kafkaStreamTailCommand({ stream: 'kafka://b1:9092,b2:9092/t' }, c.ctx, { client: () => unreachable, env: {} })).rejects.toMatchObject({
      code: 'FNTS_ERR_KAFKA_UNREACHABLE', message: 'cannot reach the Kafka brokers at b1:9092,b2:9092 (broker transport failure)',
      hint: expect.stringContaining('FNTS_KAFKA_SECURITY_PROTOCOL'),
    });
    const noTopic = fakeClient({ partitions: async () => undefined });
    await expect(kafkaStreamPutCommand({ stream: 'kafka://b1:9092/ghost', input: chunks('x\n') }, c.ctx, { client: () => noTopic, env: {} })).rejects.toMatchObject({
      code: 'FNTS_ERR_NOT_FOUND', message: 'Kafka topic "ghost" at b1:9092 not found', hint: expect.stringContaining('fnts does not create Kafka topics'),
    });
    expect(noTopic.closed).toBe(1);
    await expect(kafkaStreamTailCommand({ stream: url(TOPICS.tail) }, c.ctx, { env: { FNTS_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' } })).rejects.toMatchObject({
      code: 'FNTS_ERR_KAFKA_SETTINGS',
      message: 'invalid Kafka settings: FNTS_KAFKA_SASL_USERNAME is required with FNTS_KAFKA_SECURITY_PROTOCOL=sasl_ssl; FNTS_KAFKA_SASL_PASSWORD is required with FNTS_KAFKA_SECURITY_PROTOCOL=sasl_ssl',
    });
  });

  it('without the Kafka client installed, put and tail say so and how to install it', async () => {
    const c = cli();
    // The loader seam: a package name that does not exist is what an install without the optional client looks like.
    const missing: KafkaStreamDeps['client'] = (brokers, settings, log) => confluentKafkaClient(brokers, settings, log, 'fnts-test-no-such-kafka-client');
    const expected = {
      code: 'FNTS_ERR_KAFKA_CLIENT_MISSING', message: 'the Kafka client (fnts-test-no-such-kafka-client) is not installed on this machine',
      hint: expect.stringContaining('npm install @confluentinc/kafka-javascript'),
    };
    await expect(kafkaStreamPutCommand({ stream: url(TOPICS.whole), input: chunks('x\n') }, c.ctx, { client: missing, env: {} })).rejects.toMatchObject(expected);
    await expect(kafkaStreamTailCommand({ stream: url(TOPICS.whole) }, c.ctx, { client: missing, env: {} })).rejects.toMatchObject(expected);
  });
});

/** The real Kafka client, with a promise that resolves once a lookup has read a topic's partition ends. */
function watchingEnds(): { client: NonNullable<KafkaStreamDeps['client']>; endsRead: Promise<void> } {
  let read: () => void = () => undefined;
  const endsRead = new Promise<void>((resolve) => (read = resolve));
  const client: NonNullable<KafkaStreamDeps['client']> = (brokers, settings, log) => {
    const real = confluentKafkaClient(brokers, settings, log);
    return {
      groupConsumer: (options, events) => real.groupConsumer(options, events),
      producer: () => real.producer(),
      lookup: async (groupId) => {
        const l = await real.lookup(groupId);
        return {
          partitions: (topic) => l.partitions(topic),
          watermarks: async (topic, partitions) => {
            const marks = await l.watermarks(topic, partitions);
            read();
            return marks;
          },
          offsetsForTime: (topic, partitions, timestamp) => l.offsetsForTime(topic, partitions, timestamp),
          committed: (topic, partitions) => l.committed(topic, partitions),
          commitAsOutsider: (topic, offsets) => l.commitAsOutsider(topic, offsets),
          createTopic: (topic, partitions) => l.createTopic(topic, partitions),
          read: (topic, partition, from, max) => l.read(topic, partition, from, max),
          close: () => l.close(),
        };
      },
    };
  };
  return { client, endsRead };
}

/** A KafkaClient in memory, for the failures the mock broker cannot show (it creates any topic it is asked about). */
function fakeClient(over: {
  connect?: () => Promise<void>;
  partitions?: KafkaLookup['partitions'];
  watermarks?: KafkaLookup['watermarks'];
  send?: KafkaProducer['send'];
}): KafkaClient & { closed: number } {
  const fake = {
    closed: 0,
    groupConsumer: () => {
      throw new Error('not used');
    },
    lookup: async () => {
      await over.connect?.();
      const lookup: KafkaLookup = {
        partitions: over.partitions ?? (async () => [0]),
        watermarks: over.watermarks ?? (async () => new Map([[0, { low: 0, high: 0 }]])),
        offsetsForTime: async () => new Map(),
        committed: async () => new Map(),
        commitAsOutsider: async () => {
          throw new Error('the CLI must never commit');
        },
        createTopic: async () => undefined,
        read: async () => [],
        close: async () => void fake.closed++,
      };
      return lookup;
    },
    producer: async (): Promise<KafkaProducer> => ({ send: over.send ?? (async () => undefined), close: async () => undefined }),
  };
  return fake;
}
