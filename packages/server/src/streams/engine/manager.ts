import type { Logger } from 'pino';
import { newId } from '../../ids.js';
import type { Agent } from '../../agent/agent.js';
import type { ServerConfig } from '../../config.js';
import { errors } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import type { Datastore } from '../../store/datastore.js';
import type { App, Fn, Trigger } from '../../store/models.js';
import type { StreamInfo, StreamLog } from '../embedded/log.js';
import { EmbeddedSource, inFlightGroup, redriveGroup } from '../embedded/source.js';
import type { KafkaClient } from '../kafka/client.js';
import { confluentKafkaClient, KAFKA_CLIENT_INSTALL_HINT, KafkaClientMissing, loadKafkaModule } from '../kafka/confluent.js';
import { initializeKafkaGroup, KafkaTopicMissing } from '../kafka/group.js';
import {
  compileKafkaOptions, isKafkaOptions, isKafkaSource, parseKafkaSource, splitKafkaOptions, withoutKafkaOptions,
  type KafkaOnlyOptions, type KafkaSourceSpec, type KafkaTriggerOptions,
} from '../kafka/options.js';
import { KafkaSource } from '../kafka/source.js';
import { LeasedSource } from '../leases/leased-source.js';
import type { PostgresLeaseCoordinator } from '../leases/postgres-leases.js';
import { compileOptions, OptionsError, storedStreamOptions, type StreamTriggerOptions } from './options.js';
import { TriggerRunner } from './runner.js';
import type { StreamSource } from './source.js';

export interface ManagerDeps {
  store: Datastore;
  /** The embedded log; absent where embedded streams are refused (embedded/open.ts), and then only Kafka sources are taken. */
  log: StreamLog | undefined;
  agent: Agent;
  metrics: Metrics;
  logger: Logger;
  config: ServerConfig;
  /** This server's own id: Kafka static membership is keyed by it. */
  serverId: string;
  /** Makes the Kafka client for a list of brokers (the seam to try another client library). */
  kafkaClient?: (brokers: string[]) => KafkaClient;
  /** The package the default Kafka client loads (confluent.ts's loader seam; tests name one that does not exist). */
  kafkaClientPackage?: string;
  /**
   * Partition leases, when several servers share the embedded log (PostgreSQL): each embedded trigger then runs only
   * the partitions this server leases. Absent, this server runs every partition (SQLite: one server).
   */
  leases?: PostgresLeaseCoordinator;
}

/** The most records handed from the Kafka client to a trigger's buffers per delivery. */
const KAFKA_MAX_DELIVERY = 1000;

/** Dead-letter streams get one partition and a long retention: they are few and precious. */
const DLQ_RETENTION_MS = 30 * 86_400_000;

/** The stream-trigger engine: one runner per stream trigger, kept in step with the store. */
export class StreamTriggerManager {
  private readonly runners = new Map<string, { runner: TriggerRunner; version: string; source: string; fnId: string }>();
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: ManagerDeps) {
    // Every renewal first re-reads the triggers: what was changed through another server shows here within one.
    if (deps.leases) deps.leases.beforeTick = () => this.reconcileSerialized();
  }

  /**
   * Validates a stream trigger's source and options; on create, pass no `current`. `triggerId` names the default
   * consumer group of a Kafka trigger (`fnts-<trigger id>`).
   */
  async prepare(app: App, fn: Fn, name: string, source: string, raw: Record<string, unknown> | undefined, current?: StreamTriggerOptions, triggerId?: string): Promise<StreamTriggerOptions> {
    const defaults = { deadLetterStream: `${app.name}.${fn.name}.${name}.dlq`, maxBatchBytes: this.deps.config.maxRequestBytes };
    if (isKafkaSource(source)) return this.prepareKafka(source, raw, current, triggerId, defaults.maxBatchBytes);
    const log = this.embeddedLog();
    if (!(await log.getStream(source))) {
      throw errors.validation(`stream "${source}" does not exist; create it first (fnts create stream ${source})`);
    }
    // A trigger moving from Kafka to an embedded stream drops its Kafka options and gets the embedded dead-letter stream.
    const base = current && isKafkaOptions(current)
      ? { ...withoutKafkaOptions(current), dead_letter_stream: defaults.deadLetterStream }
      : current;
    try {
      return compileOptions(raw, base, defaults);
    } catch (err) {
      if (err instanceof OptionsError) throw errors.validation(err.problems.join('; '));
      throw err;
    }
  }

  private prepareKafka(source: string, raw: Record<string, unknown> | undefined, current: StreamTriggerOptions | undefined, triggerId: string | undefined, maxBatchBytes: number): KafkaTriggerOptions {
    let spec: KafkaSourceSpec;
    try {
      spec = parseKafkaSource(source);
    } catch (err) {
      throw errors.validation((err as Error).message);
    }
    this.requireKafkaClient();
    const { kafka, rest } = splitKafkaOptions(raw);
    const problems: string[] = [];
    const currentKafka = current && isKafkaOptions(current) ? current : undefined;
    if ('dead_letter_stream' in rest) {
      // It mirrors dead_letter_topic (a GET sent back as a PUT carries it): only a different value is a mistake.
      const topic = kafka.dead_letter_topic ?? currentKafka?.dead_letter_topic ?? `${spec.topic}.dlq`;
      if (rest.dead_letter_stream !== topic) {
        problems.push('options.dead_letter_stream is for embedded streams; a Kafka trigger dead-letters to the topic in options.dead_letter_topic');
      }
      delete rest.dead_letter_stream;
    }
    let kafkaOpts: KafkaOnlyOptions | undefined;
    let engineOpts: StreamTriggerOptions | undefined;
    try {
      kafkaOpts = compileKafkaOptions(kafka, currentKafka, { groupId: `fnts-${triggerId ?? 'trigger'}`, deadLetterTopic: `${spec.topic}.dlq` });
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      problems.push(...err.problems);
    }
    try {
      engineOpts = compileOptions(rest, current && withoutKafkaOptions(current), { deadLetterStream: `${spec.topic}.dlq`, maxBatchBytes });
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      problems.push(...err.problems);
    }
    if (problems.length > 0 || !kafkaOpts || !engineOpts) throw errors.validation(problems.join('; '));
    // dead_letter_stream mirrors the topic, so every status and listing names where dead letters go.
    return { ...engineOpts, ...kafkaOpts, dead_letter_stream: kafkaOpts.dead_letter_topic };
  }

  /** On create: the dead-letter stream exists and the start position is resolved to stored offsets (STREAMS.md §10). */
  async initialize(t: Trigger, opts: StreamTriggerOptions): Promise<void> {
    if (isKafkaSource(t.source) && isKafkaOptions(opts)) return this.initializeKafka(t, opts);
    const log = this.embeddedLog();
    if (!(await log.getStream(opts.dead_letter_stream))) {
      const now = new Date().toISOString();
      await log.createStream({
        id: newId(), name: opts.dead_letter_stream, partitions: 1, retention_ms: DLQ_RETENTION_MS, created_at: now, updated_at: now,
      });
    }
    const stream = await log.getStream(t.source) as StreamInfo;
    const source = new EmbeddedSource(log, stream, t.id);
    for (const [p, offset] of await source.resolve(opts.start_position)) await source.commit(p, offset);
  }

  /**
   * On create of a Kafka trigger: the start position becomes the group's committed offsets before anything is fetched
   * (a group that has offsets already keeps them: re-creating a trigger with the same group_id resumes).
   */
  private async initializeKafka(t: Trigger, opts: KafkaTriggerOptions): Promise<void> {
    const spec = parseKafkaSource(t.source);
    try {
      const { start, resumed } = await initializeKafkaGroup(
        this.kafkaClient(spec.brokers), spec, opts.group_id, opts.start_position, opts.dead_letter_topic, this.deps.logger,
      );
      this.deps.logger.info({ trigger_id: t.id, group_id: opts.group_id, start: Object.fromEntries(start), resumed },
        resumed.length > 0 ? 'kafka trigger resumes the consumer group\'s committed offsets' : 'kafka trigger start position committed');
    } catch (err) {
      if (err instanceof KafkaTopicMissing) {
        throw errors.validation(`Kafka topic "${spec.topic}" does not exist on ${spec.brokers.join(',')}; create it first`);
      }
      throw errors.kafkaUnavailable(
        `cannot set up consumer group "${opts.group_id}" on Kafka at ${spec.brokers.join(',')}: ${(err as Error).message}`);
    }
  }

  /** The embedded log, or the API's refusal when this server has none (PostgreSQL store): Kafka sources still work. */
  private embeddedLog(): StreamLog {
    if (!this.deps.log) throw errors.embeddedStreamsUnavailable();
    return this.deps.log;
  }

  private kafkaClient(brokers: string[]): KafkaClient {
    return this.deps.kafkaClient?.(brokers)
      ?? confluentKafkaClient(brokers, this.deps.config.kafka, this.deps.logger.child({ component: 'kafka' }), this.deps.kafkaClientPackage);
  }

  /** A kafka:// trigger on a server installed without the optional Kafka client is refused before anything is stored. */
  private requireKafkaClient(): void {
    if (this.deps.kafkaClient) return;
    try {
      loadKafkaModule(this.deps.kafkaClientPackage);
    } catch (err) {
      if (KafkaClientMissing.is(err)) throw errors.kafkaClientMissing(`${err.message}, so this server cannot read kafka:// sources; ${KAFKA_CLIENT_INSTALL_HINT}`);
      throw err;
    }
  }

  /**
   * On update: a Kafka trigger that now reads another topic or group gets that group's start position stored first,
   * as on create (a group with committed offsets keeps them).
   */
  async reinitialize(before: Trigger, after: Trigger): Promise<void> {
    const opts = storedStreamOptions(after);
    if (!opts || !isKafkaSource(after.source) || !isKafkaOptions(opts) || sourceKey(before) === sourceKey(after)) return;
    await this.initializeKafka(after, opts);
  }

  /** Forgets a deleted trigger's offsets (a Kafka group keeps its offsets in Kafka: re-creating with its group_id resumes). */
  async forget(triggerId: string): Promise<void> {
    await this.deps.log?.deleteGroup(triggerId);
    await this.deps.log?.deleteGroup(redriveGroup(triggerId));
    await this.deps.log?.deleteGroup(inFlightGroup(triggerId));
    await this.deps.leases?.forget(triggerId);
  }

  runner(triggerId: string): TriggerRunner | undefined {
    return this.runners.get(triggerId)?.runner;
  }

  /**
   * Starts, reconfigures or stops runners so they match the stream triggers in the store (serialized), after a change
   * made through this server; servers sharing the database are told to look now.
   */
  async sync(): Promise<void> {
    await this.reconcileSerialized();
    await this.deps.leases?.announce().catch((err: unknown) => this.deps.logger.warn({ err }, 'could not tell the other servers of a trigger change'));
  }

  /** Matches the runners to the store now, without telling other servers (a trigger created through another one). */
  refresh(): Promise<void> {
    return this.reconcileSerialized();
  }

  private reconcileSerialized(): Promise<void> {
    this.syncing = this.syncing.then(() => this.reconcile()).catch((err: unknown) => {
      this.deps.logger.error({ err }, 'stream trigger sync failed');
    });
    return this.syncing;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const triggers = await this.deps.store.listTriggersByType('stream');
    const wanted = new Set(triggers.map((t) => t.id));
    for (const [id, r] of this.runners) {
      if (!wanted.has(id)) {
        this.runners.delete(id);
        await r.runner.stop();
        await this.forget(id);
      }
    }
    for (const t of triggers) {
      const current = this.runners.get(t.id);
      const opts = storedStreamOptions(t);
      if (current && current.version === t.updated_at) continue;
      if (!opts) {
        this.deps.logger.error({ trigger_id: t.id }, 'stream trigger has no options; not started');
        continue;
      }
      if (current && current.source === sourceKey(t) && current.fnId === t.fn_id) {
        current.runner.reconfigure(opts);
        current.version = t.updated_at;
        continue;
      }
      if (current) await current.runner.stop();
      const source = await this.sourceFor(t, opts);
      if (!source) {
        this.deps.logger.error({ trigger_id: t.id, source: t.source }, 'stream trigger source is missing; not started');
        continue;
      }
      const runner = new TriggerRunner(t, opts, source, {
        agent: this.deps.agent, store: this.deps.store, metrics: this.deps.metrics, logger: this.deps.logger,
        maxRequestBytes: this.deps.config.maxRequestBytes, shutdownGraceMs: this.deps.config.shutdownGraceMs,
      });
      await runner.start();
      this.runners.set(t.id, { runner, version: t.updated_at, source: sourceKey(t), fnId: t.fn_id });
    }
  }

  private async sourceFor(t: Trigger, opts: StreamTriggerOptions): Promise<StreamSource | undefined> {
    if (isKafkaSource(t.source)) {
      if (!isKafkaOptions(opts)) return undefined;
      const spec = parseKafkaSource(t.source);
      try {
        this.requireKafkaClient();
      } catch (err) {
        // A server reinstalled without the Kafka client still serves everything else.
        this.deps.logger.error({ trigger_id: t.id, source: t.source, err: (err as Error).message }, 'kafka trigger not started');
        return undefined;
      }
      return new KafkaSource({
        client: this.kafkaClient(spec.brokers),
        spec,
        groupId: opts.group_id,
        // Static membership keyed by server identity: a restart within the session timeout moves no partition.
        instanceId: this.deps.config.kafka.staticMembership ? `${this.deps.serverId}-${t.id}` : undefined,
        maxBufferedBytes: () => {
          const live = this.runners.get(t.id)?.runner.options;
          return live && isKafkaOptions(live) ? live.max_buffered_bytes : opts.max_buffered_bytes;
        },
        // About two engine batches per delivery, so a full buffer overshoots its bound by little.
        maxBatch: Math.min(KAFKA_MAX_DELIVERY, Math.max(32, opts.batch_size * 2)),
        log: this.deps.logger.child({ component: 'kafka', trigger_id: t.id, topic: spec.topic }),
      });
    }
    const log = this.deps.log;
    const stream = await log?.getStream(t.source);
    if (!log || !stream) return undefined;
    const embedded = new EmbeddedSource(log, stream, t.id);
    return this.deps.leases ? new LeasedSource(embedded, this.deps.leases, t.id, stream.partitions) : embedded;
  }

  /** Refreshes lag gauges (called before /metrics is served). */
  async refreshMetrics(): Promise<void> {
    for (const { runner } of this.runners.values()) await runner.status();
  }

  /** Stops every runner; batches in flight are abandoned uncommitted and redelivered after a restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.syncing;
    await Promise.all([...this.runners.values()].map((r) => r.runner.stop()));
    this.runners.clear();
  }
}

/** What a runner consumes: a new one starts when it changes (a Kafka trigger's group is part of it). */
function sourceKey(t: Trigger): string {
  const opts = storedStreamOptions(t);
  return opts && isKafkaOptions(opts) ? `${t.source}#${opts.group_id}` : t.source;
}
