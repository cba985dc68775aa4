import { OptionsError, type StreamTriggerOptions } from '../engine/options.js';

/** A Kafka trigger's source: `kafka://host1:9092,host2:9092/topic`. */
export interface KafkaSourceSpec {
  brokers: string[];
  topic: string;
}

export const KAFKA_SOURCE_FORM = 'kafka://host1:9092,host2:9092/topic';
const TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_RE = /^\[[0-9A-Fa-f:.]+\]$/;

export function isKafkaSource(source: string): boolean {
  return source.startsWith('kafka://');
}

/** Parses a kafka:// source; the error message names the problem and the expected form. */
export function parseKafkaSource(source: string): KafkaSourceSpec {
  const bad = (problem: string) => new Error(`invalid Kafka source "${source}": ${problem}; expected ${KAFKA_SOURCE_FORM}`);
  if (!isKafkaSource(source)) throw bad('it must start with kafka://');
  const rest = source.slice('kafka://'.length);
  if (rest === '' || rest.startsWith('/')) throw bad('at least one broker host:port is needed');
  if (/[?#]/.test(rest)) throw bad('query strings and fragments are not supported (security settings come from the server config)');
  if (rest.includes('@')) throw bad('credentials do not belong in the source (set FNTS_KAFKA_SASL_* on the server)');
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('the topic is missing');
  const hostList = rest.slice(0, slash);
  const topic = rest.slice(slash + 1);
  if (hostList === '') throw bad('at least one broker host:port is needed');
  const brokers = hostList.split(',').map((h) => h.trim());
  for (const b of brokers) {
    const colon = b.lastIndexOf(':');
    if (colon <= 0) throw bad(`broker "${b}" needs a port (host:port)`);
    const host = b.slice(0, colon);
    const port = b.slice(colon + 1);
    if (!HOSTNAME_RE.test(host) && !IPV6_RE.test(host)) throw bad(`broker "${b}" has an invalid host`);
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw bad(`broker "${b}" has an invalid port`);
  }
  if (topic === '') throw bad('the topic is missing');
  if (topic.includes('/')) throw bad('the topic is the only path segment');
  if (!TOPIC_RE.test(topic) || topic === '.' || topic === '..') {
    throw bad(`"${topic}" is not a valid Kafka topic name (letters, digits, ".", "_", "-"; at most 249)`);
  }
  return { brokers, topic };
}

/** The options only Kafka triggers have (snake_case, stored with the others). */
export interface KafkaOnlyOptions {
  /** The consumer group: stable across trigger updates and server restarts; several servers with the same group split the partitions. */
  group_id: string;
  /** Where dead letters go (a Kafka topic); `dead_letter_stream` mirrors it for status. */
  dead_letter_topic: string;
  /** Records fetched ahead per partition before fetching that partition pauses (bytes). */
  max_buffered_bytes: number;
  /** How long a revoked partition's batch in flight may take to finish and commit before it is fenced. */
  drain_timeout_ms: number;
}

export type KafkaTriggerOptions = StreamTriggerOptions & KafkaOnlyOptions;

export const KAFKA_OPTION_KEYS: readonly (keyof KafkaOnlyOptions)[] = ['group_id', 'dead_letter_topic', 'max_buffered_bytes', 'drain_timeout_ms'];

export function isKafkaOptions(o: StreamTriggerOptions): o is KafkaTriggerOptions {
  return typeof (o as Partial<KafkaTriggerOptions>).group_id === 'string';
}

/** Splits raw options into the Kafka-only ones and the engine's. */
export function splitKafkaOptions(raw: Record<string, unknown> | undefined): { kafka: Record<string, unknown>; rest: Record<string, unknown> } {
  const kafka: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if ((KAFKA_OPTION_KEYS as readonly string[]).includes(k)) kafka[k] = v;
    else rest[k] = v;
  }
  return { kafka, rest };
}

/** Removes the Kafka-only options (a trigger moved from Kafka to an embedded stream). */
export function withoutKafkaOptions(o: StreamTriggerOptions): StreamTriggerOptions {
  const copy = { ...o } as Record<string, unknown>;
  for (const k of KAFKA_OPTION_KEYS) delete copy[k];
  return copy as unknown as StreamTriggerOptions;
}

/** Compiles the Kafka-only options over the current ones; defaults fill the rest. Throws OptionsError with every problem. */
export function compileKafkaOptions(
  raw: Record<string, unknown>,
  base: Partial<KafkaOnlyOptions> | undefined,
  defaults: { groupId: string; deadLetterTopic: string },
): KafkaOnlyOptions {
  const problems: string[] = [];
  const out: KafkaOnlyOptions = {
    group_id: base?.group_id ?? defaults.groupId,
    dead_letter_topic: base?.dead_letter_topic ?? defaults.deadLetterTopic,
    max_buffered_bytes: base?.max_buffered_bytes ?? 4 * 1024 * 1024,
    drain_timeout_ms: base?.drain_timeout_ms ?? 10_000,
  };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'group_id') {
      if (typeof value !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(value)) {
        problems.push('options.group_id must be 1 to 255 printable ASCII characters without spaces');
      } else out.group_id = value;
    } else if (key === 'dead_letter_topic') {
      if (typeof value !== 'string' || !TOPIC_RE.test(value) || value === '.' || value === '..') {
        problems.push('options.dead_letter_topic must be a Kafka topic name (letters, digits, ".", "_", "-"; at most 249)');
      } else out.dead_letter_topic = value;
    } else if (key === 'max_buffered_bytes') {
      if (!Number.isInteger(value) || (value as number) < 1024 || (value as number) > 1024 * 1024 * 1024) {
        problems.push('options.max_buffered_bytes must be an integer from 1024 to 1073741824');
      } else out.max_buffered_bytes = value as number;
    } else if (key === 'drain_timeout_ms') {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 300_000) {
        problems.push('options.drain_timeout_ms must be an integer from 0 to 300000');
      } else out.drain_timeout_ms = value as number;
    }
  }
  if (problems.length > 0) throw new OptionsError(problems);
  return out;
}
