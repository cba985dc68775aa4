import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { Agent } from '../agent/agent.js';
import type { ServerConfig } from '../config.js';
import { errors } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Datastore } from '../store/datastore.js';
import type { App, Fn, Trigger } from '../store/models.js';
import type { EmbeddedLog, StreamInfo } from './log.js';
import { compileOptions, OptionsError, type StreamTriggerOptions } from './options.js';
import { TriggerRunner } from './runner.js';
import { EmbeddedSource, type StreamSource } from './source.js';

export interface ManagerDeps {
  store: Datastore;
  log: EmbeddedLog;
  agent: Agent;
  metrics: Metrics;
  logger: Logger;
  config: ServerConfig;
}

/** Dead-letter streams get one partition and a long retention: they are few and precious. */
const DLQ_RETENTION_MS = 30 * 86_400_000;

/** The stream-trigger engine: one runner per stream trigger, kept in step with the store. */
export class StreamTriggerManager {
  private readonly runners = new Map<string, { runner: TriggerRunner; version: string; source: string; fnId: string }>();
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: ManagerDeps) {}

  /** Validates a stream trigger's source and options; on create, pass no `current`. */
  prepare(app: App, fn: Fn, name: string, source: string, raw: Record<string, unknown> | undefined, current?: StreamTriggerOptions): StreamTriggerOptions {
    if (source.startsWith('kafka://')) {
      throw errors.validation('Kafka sources are not available on this server yet; use an embedded stream name');
    }
    if (!this.deps.log.getStream(source)) {
      throw errors.validation(`stream "${source}" does not exist; create it first (fnts create stream ${source})`);
    }
    try {
      return compileOptions(raw, current, {
        deadLetterStream: `${app.name}.${fn.name}.${name}.dlq`,
        maxBatchBytes: this.deps.config.maxRequestBytes,
      });
    } catch (err) {
      if (err instanceof OptionsError) throw errors.validation(err.problems.join('; '));
      throw err;
    }
  }

  /** On create: the dead-letter stream exists and the start position is resolved to stored offsets (STREAMS.md §10). */
  async initialize(t: Trigger, opts: StreamTriggerOptions): Promise<void> {
    if (!this.deps.log.getStream(opts.dead_letter_stream)) {
      const now = new Date().toISOString();
      this.deps.log.createStream({
        id: newId(), name: opts.dead_letter_stream, partitions: 1, retention_ms: DLQ_RETENTION_MS, created_at: now, updated_at: now,
      });
    }
    const stream = this.deps.log.getStream(t.source) as StreamInfo;
    const source = new EmbeddedSource(this.deps.log, stream, t.id);
    for (const [p, offset] of await source.resolve(opts.start_position)) await source.commit(p, offset);
  }

  /** Forgets a deleted trigger's offsets. */
  forget(triggerId: string): void {
    this.deps.log.deleteGroup(triggerId);
    this.deps.log.deleteGroup(`${triggerId}:redrive`);
  }

  runner(triggerId: string): TriggerRunner | undefined {
    return this.runners.get(triggerId)?.runner;
  }

  /** Starts, reconfigures or stops runners so they match the stream triggers in the store. Serialized. */
  sync(): Promise<void> {
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
        this.forget(id);
      }
    }
    for (const t of triggers) {
      const current = this.runners.get(t.id);
      const opts = t.options as unknown as StreamTriggerOptions;
      if (current && current.version === t.updated_at) continue;
      if (current && current.source === t.source && current.fnId === t.fn_id) {
        current.runner.reconfigure(opts);
        current.version = t.updated_at;
        continue;
      }
      if (current) await current.runner.stop();
      const source = this.sourceFor(t);
      if (!source) {
        this.deps.logger.error({ trigger_id: t.id, source: t.source }, 'stream trigger source is missing; not started');
        continue;
      }
      const runner = new TriggerRunner(t, opts, source, {
        agent: this.deps.agent, store: this.deps.store, log: this.deps.log, metrics: this.deps.metrics, logger: this.deps.logger,
      });
      await runner.start();
      this.runners.set(t.id, { runner, version: t.updated_at, source: t.source, fnId: t.fn_id });
    }
  }

  private sourceFor(t: Trigger): StreamSource | undefined {
    const stream = this.deps.log.getStream(t.source);
    return stream && new EmbeddedSource(this.deps.log, stream, t.id);
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
