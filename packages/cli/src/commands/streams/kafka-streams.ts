import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfigError, confluentKafkaClient, KAFKA_CLIENT_INSTALL_HINT, KafkaClientMissing, kafkaHeaderText, loadKafkaSettings, parseKafkaSource,
  type KafkaClient, type KafkaLookup, type KafkaProducer, type KafkaRecord, type KafkaSettings, type OutgoingRecord,
} from '@fnts/server/kafka';
import type { MessagePosition, StreamMessage } from '../../client.js';
import { cliErrors } from '../../errors.js';
import { parseConfigPairs } from '../../pairs.js';
import type { CommandContext } from '../command-context.js';
import { outputFormat } from '../print.js';
import {
  describePositions, formatMessage, noMessagesNote, READ_PAGE, readPutInput, TAIL_POLL_MS,
  type StreamPutOptions, type StreamPutResult, type StreamTailOptions,
} from './stream-io.js';

/**
 * `fnts stream put|tail kafka://host:port[,host:port]/topic`: the same commands straight against a Kafka topic, no
 * fnts server involved, through the server package's Kafka client seam (`@fnts/server/kafka`: the client alone, not the server) (`confluentKafkaClient`) with the server's
 * FNTS_KAFKA_* security settings read from this process's environment.
 *
 * Reads never join or commit for a consumer group: the seam's lookup client (a throwaway `fnts-cli-…` group id,
 * auto-commit off, never subscribed) assigns one partition at a time and reads it. The seam's producer does not
 * report where records went, so `put` brackets each batch with the partitions' end offsets: when the ends moved by
 * exactly the batch's size in total, every new offset is one of ours and they are reported; otherwise another
 * producer wrote at the same time and the offsets of that batch are reported as unknown.
 */

type Env = Readonly<Record<string, string | undefined>>;
type KafkaLog = Parameters<typeof confluentKafkaClient>[2];

/** What the Kafka commands take from outside (tests replace them). */
export interface KafkaStreamDeps {
  /** Where FNTS_KAFKA_* come from (default: process.env). */
  env?: Env;
  /** The Kafka client (default: the server's `confluentKafkaClient`). */
  client?: (brokers: string[], settings: KafkaSettings, log: KafkaLog) => KafkaClient;
}

const NAME_HINT = 'name a Kafka topic as kafka://host:port[,host:port…]/topic; TLS and SASL settings come from the FNTS_KAFKA_* environment variables, never from the name';

const causeOf = (err: unknown): string => {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown } | undefined)?.message ?? err);
  return message.split('\n')[0]?.trim() || 'unknown error';
};

/**
 * The client's log, as pino-shaped as the seam needs (`log.warn({...}, message)`): librdkafka's complaints (mostly
 * retried connection failures) are shown with --verbose only; the command's own error says what went wrong.
 */
function kafkaLog(ctx: CommandContext): KafkaLog {
  const ignore = () => undefined;
  const show = ctx.verbose
    ? (fields: unknown, message?: string) => ctx.output.info(`kafka: ${message ?? ''} ${JSON.stringify(fields) ?? ''}\n`)
    : ignore;
  const log: Record<string, unknown> = { level: 'debug', trace: ignore, debug: show, info: show, warn: show, error: show, fatal: show };
  log.child = () => log;
  return log as unknown as KafkaLog;
}

interface KafkaTopic {
  name: string;
  brokers: string;
  topic: string;
  client: KafkaClient;
  lookup: KafkaLookup;
  partitions: number[];
  close(): Promise<void>;
}

/** Parses the name, reads the settings, connects (at most ~10 s) and checks that the topic exists. */
async function openTopic(name: string, ctx: CommandContext, deps: KafkaStreamDeps): Promise<KafkaTopic> {
  let spec: { brokers: string[]; topic: string };
  try {
    spec = parseKafkaSource(name);
  } catch (err) {
    throw cliErrors.usage(causeOf(err), NAME_HINT);
  }
  const env = deps.env ?? process.env;
  let settings: KafkaSettings;
  try {
    settings = loadKafkaSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) throw cliErrors.kafkaSettings(err.problems);
    throw err;
  }
  // The CLI's connections are told apart from a server's (fnts-cli-lookup, fnts-cli-dlq) unless a client id is set.
  if (!env.FNTS_KAFKA_CLIENT_ID) settings = { ...settings, clientId: 'fnts-cli' };
  const brokers = spec.brokers.join(',');
  let client: KafkaClient;
  try {
    client = (deps.client ?? confluentKafkaClient)(spec.brokers, settings, kafkaLog(ctx));
  } catch (err) {
    if (KafkaClientMissing.is(err)) throw cliErrors.kafkaClientMissing(err.message, KAFKA_CLIENT_INSTALL_HINT);
    throw err;
  }
  let lookup: KafkaLookup;
  try {
    // Never subscribed and never committing, so this group id never shows up on the brokers.
    lookup = await client.lookup(`fnts-cli-${randomBytes(6).toString('hex')}`);
  } catch (err) {
    throw cliErrors.kafkaUnreachable(brokers, causeOf(err));
  }
  const close = () => lookup.close().catch(() => undefined);
  try {
    const partitions = await lookup.partitions(spec.topic).catch((err: unknown) => {
      throw cliErrors.kafka(`could not look up Kafka topic ${spec.topic} at ${brokers}: ${causeOf(err)}`,
        'check that these brokers serve that topic and that the FNTS_KAFKA_* settings may describe it');
    });
    if (partitions === undefined) {
      throw cliErrors.notFound(`Kafka topic "${spec.topic}" at ${brokers}`,
        'check the name (topic names are case-sensitive); fnts does not create Kafka topics: create it with your Kafka tools first');
    }
    return { name, brokers, topic: spec.topic, client, lookup, partitions, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// put

export interface KafkaPutResult extends StreamPutResult {
  topic: string;
  /** Messages put (and acknowledged by all in-sync replicas). */
  count: number;
  /** How many of them have no offset in `offsets`: another producer wrote to the topic during their batch. */
  offsets_unknown: number;
}

type Marks = Map<number, { low: number; high: number }>;

/** Our batch of `size` records, if the partitions' ends moved by exactly that much in total between the two looks. */
function placedBetween(before: Marks | undefined, after: Marks | undefined, size: number): MessagePosition[] | undefined {
  if (!before || !after) return undefined;
  const placed: MessagePosition[] = [];
  for (const [partition, { high }] of after) {
    const from = before.get(partition)?.high;
    if (from === undefined || high < from) return undefined;
    for (let offset = from; offset < high; offset++) placed.push({ partition, offset });
  }
  return placed.length === size ? placed : undefined;
}

/**
 * `fnts stream put kafka://…/topic`: produces stdin (the same input modes as an embedded stream's put) to the topic,
 * in batches of at most 1,000 records, each acknowledged by all in-sync replicas before the next is read.
 */
export async function kafkaStreamPutCommand(opts: StreamPutOptions, ctx: CommandContext, deps: KafkaStreamDeps = {}): Promise<KafkaPutResult> {
  const json = outputFormat(opts.output) === 'json';
  const headers = Object.entries(parseConfigPairs(opts.header, '--header'));
  const key = opts.key === undefined ? null : Buffer.from(opts.key, 'utf8');
  const t = await openTopic(opts.stream, ctx, deps);
  const positions: MessagePosition[] = [];
  let count = 0;
  let unknown = 0;
  const sofar = () => {
    if (count === 0) return 'nothing was put';
    const where = [positions.length > 0 ? describePositions(positions) : '', unknown > 0 ? `${unknown} at unknown offsets` : ''];
    return `put before it: ${count} (${where.filter(Boolean).join('; ')})`;
  };
  let producer: KafkaProducer | undefined;
  try {
    producer = await t.client.producer().catch((err: unknown) => {
      throw cliErrors.kafka(`could not start a Kafka producer for ${t.brokers}: ${causeOf(err)}`);
    });
    const send = producer.send.bind(producer);
    const marks = () => t.lookup.watermarks(t.topic, t.partitions).catch(() => undefined);
    await readPutInput(opts, ctx, {
      send: async (values) => {
        const records: OutgoingRecord[] = values.map((value) => ({ key, value, headers }));
        const before = await marks();
        try {
          await send(t.topic, records);
        } catch (err) {
          throw cliErrors.kafka(`could not put to Kafka topic ${t.topic}: ${causeOf(err)}`,
            `some of the last ${values.length} message(s) may have been written; ${sofar()}`);
        }
        count += values.length;
        const placed = placedBetween(before, await marks(), values.length);
        if (placed) positions.push(...placed);
        else unknown += values.length;
      },
      sofar,
    });
  } finally {
    await producer?.close().catch(() => undefined);
    await t.close();
  }

  const to = `put ${count} message${count === 1 ? '' : 's'} to ${t.topic}`;
  if (count === 0) ctx.output.info(`put 0 messages to ${t.topic}: the input was empty\n`);
  else if (unknown === 0) ctx.output.info(`${to}: ${describePositions(positions)}\n`);
  else {
    const known = positions.length > 0 ? `: ${describePositions(positions)}; ` : ' (';
    ctx.output.info(`${to}${known}offsets of ${unknown} unknown: another producer wrote to the topic at the same time${positions.length > 0 ? '' : ')'}\n`);
  }
  const result: KafkaPutResult = { stream: t.name, topic: t.topic, count, offsets: positions, offsets_unknown: unknown };
  if (json) ctx.output.out(`${JSON.stringify(result)}\n`);
  return result;
}

// tail

function toMessage(r: KafkaRecord, encoding: 'utf8' | 'base64'): StreamMessage {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key && r.key.length > 0 ? r.key.toString(encoding) : null,
    value: r.value.toString(encoding),
    headers: kafkaHeaderText(r.headers),
  };
}

/**
 * `fnts stream tail kafka://…/topic`: the embedded tail's behaviour and output on a Kafka topic: partition by
 * partition from each one's end (or its oldest record with --from-beginning) up to the end it had at the start, or
 * with --follow looking for new records every 500 ms until the signal aborts or --limit is reached.
 */
export async function kafkaStreamTailCommand(opts: StreamTailOptions, ctx: CommandContext, deps: KafkaStreamDeps = {}): Promise<number> {
  const json = outputFormat(opts.output) === 'json';
  if (opts.limit !== undefined && opts.limit < 1) throw cliErrors.usage('--limit must be at least 1', 'for example --limit 10');
  const t = await openTopic(opts.stream, ctx, deps);
  const signal = opts.signal;
  let printed = 0;
  try {
    const all = t.partitions;
    if (opts.partition !== undefined && !all.includes(opts.partition)) {
      throw cliErrors.usage(`Kafka topic ${t.topic} has no partition ${opts.partition}`,
        `its partitions are ${all[0]} to ${all[all.length - 1]}; leave out --partition to read them all`);
    }
    const partitions = opts.partition !== undefined ? [opts.partition] : all;
    const readMarks = () => t.lookup.watermarks(t.topic, partitions).catch((err: unknown) => {
      throw cliErrors.kafka(`could not read the offsets of Kafka topic ${t.topic}: ${causeOf(err)}`);
    });
    let marks = await readMarks();
    const next = new Map(partitions.map((p) => [p, (opts.fromBeginning ? marks.get(p)?.low : marks.get(p)?.high) ?? 0]));
    // Without --follow: what is there now, up to each partition's end when the command started.
    const stopAt = new Map(partitions.map((p) => [p, opts.follow ? Infinity : marks.get(p)?.high ?? 0]));
    const encoding = opts.base64 ? 'base64' : 'utf8';
    const full = () => opts.limit !== undefined && printed >= opts.limit;

    try {
      for (;;) {
        let found = 0;
        for (const p of partitions) {
          const mark = marks.get(p) ?? { low: 0, high: 0 };
          // Records removed by retention meanwhile: go on from the oldest kept one.
          if ((next.get(p) ?? 0) < mark.low) next.set(p, mark.low);
          for (;;) {
            const from = next.get(p) ?? 0;
            const end = Math.min(stopAt.get(p) ?? 0, mark.high);
            if (full() || from >= end || signal?.aborted) break;
            const want = Math.min(READ_PAGE, end - from, opts.limit === undefined ? READ_PAGE : opts.limit - printed);
            const records = await t.lookup.read(t.topic, p, from, want).catch((err: unknown) => {
              throw cliErrors.kafka(`could not read partition ${p} of Kafka topic ${t.topic}: ${causeOf(err)}`);
            });
            if (signal?.aborted) break;
            // Offsets that hold no record (compacted away, transaction markers): go on after them.
            if (records.length === 0) {
              next.set(p, end);
              break;
            }
            for (const r of records) {
              if (r.offset >= end || full()) break;
              ctx.output.out(formatMessage(toMessage(r, encoding), json));
              next.set(p, r.offset + 1);
              printed++;
              found++;
            }
          }
        }
        if (!opts.follow || full() || signal?.aborted) break;
        if (found === 0) await sleep(opts.pollMs ?? TAIL_POLL_MS, undefined, signal ? { signal } : {});
        marks = await readMarks();
      }
    } catch (err) {
      if (!signal?.aborted) throw err; // Ctrl-C during a wait: stop quietly
    }
  } finally {
    await t.close();
  }
  if (printed === 0 && !opts.follow && !json) ctx.output.info(noMessagesNote(t.topic, opts.fromBeginning));
  return printed;
}
