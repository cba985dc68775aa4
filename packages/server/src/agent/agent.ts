import {
  CALL_METHOD, CALL_PATH, ENV, HTTP_STREAM_FORMAT, IOFS_MOUNT, SOCKET_NAME, SYNC_FN_TYPE, UNIX_LISTENER_PREFIX,
} from '@fnts/api/contract';
import { ERROR_CODE } from '@fnts/api/errors';
import { createHash } from 'node:crypto';
import { configKeyProblem } from './platform-env.js';
import { Transform, finished, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { ClientGoneError, errors, type FntsError, isFntsError } from '../errors.js';
import { explainCallFailure } from './call-failure.js';
import { requestCall, WHOLE_ANSWER_BYTES, type CallAnswer } from './call-request.js';
import { errorDetailOf, readErrorBody } from './fdk-error.js';
import { CALL_OUTCOMES, fnLabels, type CallOutcome, type FnLabels, type Metrics } from '../metrics.js';
import type { App, Fn } from '../store/models.js';
import { MemoryBudget } from './capacity.js';
import type { DockerDriver } from './docker.js';
import { callHeaders, type HeaderMap } from './http-headers.js';
import { LogHub } from './log-hub.js';
import { LOG_FRAME_ENV } from './launcher.js';
import { HotContainerPool, type PoolSettings } from './pool.js';
import { minContainersOf, warmOnDeployOf } from './warm-settings.js';
import { StemCellPool } from './stem-cells.js';
import { isBundleEntrypoint } from './bundle-cache.js';
import { FN_DEFAULTS } from '../store/models.js';
import { CallCancel, offCancel, onCancel, type CancelSignal } from './call-cancel.js';

/** One call as the agent sees it: who to run, the headers for the function, and the body to stream in. */
export interface CallRequest {
  app: App;
  fn: Fn;
  callId: string;
  /** Headers for `POST /call`, without Fn-Call-Id and Fn-Deadline, which the agent adds. */
  headers: HeaderMap;
  /** A Buffer goes in one write with its length; a stream goes chunked (CONTRACT §2.1). */
  body: Readable | Buffer | null;
  /**
   * Aborts when the caller goes away. A CallCancel of the caller's own, for this call alone, aborted with a
   * ClientGoneError, is used as the call's cancellation itself (the agent aborts it at the deadline too) rather
   * than linked to a second one.
   */
  signal: CancelSignal;
  /** What made the call, for its record (an `/invoke` when absent). */
  origin?: CallOrigin;
}

/** What made a call: a detached invoke, or a trigger (with the stream batch a stream trigger sent). */
export interface CallOrigin {
  detached?: boolean;
  triggerId?: string;
  batch?: string;
}

/** Reported once per call when it ends, for call records and history; listeners must not block. */
export interface CallEnd {
  req: CallRequest;
  /** Epoch ms: the call reached the agent, got a container, ended (its response body finished or it failed). */
  createdMs: number;
  startedMs: number | undefined;
  endedMs: number;
  outcome: CallOutcome;
  error: Error | undefined;
}

/** A successful call: the FDK said 200. The body streams; the container is released when it ends. */
export interface CallResponse {
  headers: HeaderMap;
  /** The whole body when it was small (call-request.ts), else a stream of it. */
  body: Buffer | Readable;
}

async function* chunked(body: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield chunk as Buffer;
}

/** The platform variables of CONTRACT §1.1, written over the user's config. */
export function containerEnv(app: App, fn: Fn): Record<string, string> {
  const config: Record<string, string> = {};
  // Keys the API refuses today (stored before it did) never reach Docker, where `=` would split them.
  for (const [k, v] of Object.entries({ ...app.config, ...fn.config })) if (!configKeyProblem(k)) config[k] = v;
  return {
    ...config,
    [ENV.configKeys]: Object.keys(config).sort().join(','),
    [ENV.memory]: String(fn.memory),
    [ENV.type]: SYNC_FN_TYPE,
    [ENV.fnId]: fn.id,
    [ENV.appId]: app.id,
    [ENV.fnName]: fn.name,
    [ENV.appName]: app.name,
    [ENV.listener]: `${UNIX_LISTENER_PREFIX}${IOFS_MOUNT}/${SOCKET_NAME}`,
    [ENV.format]: HTTP_STREAM_FORMAT,
    ...LOG_FRAME_ENV,
  };
}

/** Any change to what a container was started with starts a new pool (CONTRACT §3.1). */
export function poolKey(app: App, fn: Fn): string {
  const identity = {
    app: app.id, syslog: app.syslog_url ?? '', fn: fn.id, image: fn.image, memory: fn.memory, timeout: fn.timeout,
    idle: fn.idle_timeout, max: fn.max_containers ?? 0, concurrency: fn.concurrency ?? 1,
    env: Object.entries(containerEnv(app, fn)).sort(),
    annotations: Object.entries({ ...app.annotations, ...fn.annotations }).sort(),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

function outcomeOf(err: FntsError): CallOutcome {
  switch (err.code) {
    case ERROR_CODE.timedOut:
      return 'timeout';
    case ERROR_CODE.serverBusy:
      return 'busy';
    case ERROR_CODE.clientGone:
      return 'client_gone';
    case ERROR_CODE.receiveFailed:
    case ERROR_CODE.invalidResponse:
      return 'killed';
    case ERROR_CODE.containerInitFailed:
    case ERROR_CODE.containerInitTimeout:
    case ERROR_CODE.imageNotFound:
    case ERROR_CODE.imagePullFailed:
    case ERROR_CODE.imagePullTimeout:
      return 'init_failed';
    default:
      return 'error';
  }
}

/** A function version as the agent keeps it (Agent.versionOf). */
interface FnVersion {
  app: App;
  fnUpdatedAt: string;
  appUpdatedAt: string;
  labels: FnLabels;
  byOutcome: Record<CallOutcome, FnLabels & { outcome: CallOutcome }>;
  poolKey: string;
}

/** Runs calls in hot containers: one pool per function version, a shared memory budget, bounded queues. */
export class Agent {
  private readonly pools = new Map<string, HotContainerPool>();
  /** The current pool key of each function, so a changed function retires its old pool. */
  private readonly currentKey = new Map<string, string>();
  /** Pools of superseded function versions whose calls are still finishing. */
  private readonly retired = new Set<HotContainerPool>();
  readonly budget: MemoryBudget;
  readonly logs: LogHub;
  /** Prewarmed base-image containers that cold starts of typescript/node functions claim. */
  readonly stems: StemCellPool;
  private closing = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly callEndListeners: ((end: CallEnd) => void)[] = [];

  constructor(
    private readonly config: ServerConfig,
    private readonly driver: DockerDriver,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Where this server's containers are marked and keep their socket dirs, so a restarted server finds leftovers. */
    private readonly identity: { labels: Record<string, string>; iofsDir: string },
  ) {
    this.budget = new MemoryBudget(config.maxTotalMemoryMiB);
    this.logs = new LogHub(config.logRingBytes);
    this.stems = new StemCellPool({
      count: config.stemCells,
      memoryMiB: FN_DEFAULTS.memory,
      image: `fnts/node:${process.versions.node.split('.')[0] ?? ''}`,
      labels: { ...config.containerLabels, ...identity.labels },
      networkMode: config.networkMode,
      pidsLimit: config.pidsLimit,
      iofsDir: identity.iofsDir,
      iofsSizeBytes: config.iofsSizeBytes,
      startTimeoutMs: config.hotStartTimeoutMs,
    }, driver, this.budget, metrics, log.child({ component: 'stem-cells' }));
  }

  /** Calls `listener` as each call ends (sync, in the agent's path: it must only hand the event on). */
  onCallEnd(listener: (end: CallEnd) => void): void {
    this.callEndListeners.push(listener);
  }

  /**
   * What a call needs of its function version beyond the stored fn (metric labels, one label set per outcome, the
   * pool key), made once per version: the store hands out the same frozen fn object until the fn or its app changes,
   * so a hot call finds it by identity; a store that hands out copies is matched on the fn's and app's update times.
   */
  private readonly versions = new WeakMap<Fn, FnVersion>();
  private readonly versionsById = new Map<string, FnVersion>();
  private versionOf(app: App, fn: Fn): FnVersion {
    const hit = this.versions.get(fn);
    if (hit?.app === app) return hit;
    const known = this.versionsById.get(fn.id);
    if (known && known.fnUpdatedAt === fn.updated_at && known.appUpdatedAt === app.updated_at && known.app.id === app.id) {
      this.versions.set(fn, known);
      return known;
    }
    const labels = fnLabels(app, fn);
    const byOutcome = {} as Record<CallOutcome, FnLabels & { outcome: CallOutcome }>;
    for (const outcome of CALL_OUTCOMES) byOutcome[outcome] = { ...labels, outcome };
    const version: FnVersion = {
      app, fnUpdatedAt: fn.updated_at, appUpdatedAt: app.updated_at, labels, byOutcome, poolKey: poolKey(app, fn),
    };
    this.versions.set(fn, version);
    this.versionsById.set(fn.id, version);
    return version;
  }

  /** Runs one call; resolves once the function has answered 200, or rejects with the call's error. */
  async call(req: CallRequest): Promise<CallResponse> {
    if (this.closing) throw errors.serverBusy();
    const started = process.hrtime.bigint();
    const timing = { createdMs: Date.now(), startedMs: undefined as number | undefined };
    this.inFlight++;
    let counted = false;
    const done = (outcome: CallOutcome, error?: Error) => {
      if (counted) return;
      counted = true;
      const version = this.versionOf(req.app, req.fn);
      this.metrics.calls.add(version.byOutcome[outcome]);
      this.metrics.callDuration.observe(version.labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      const end: CallEnd = { req, createdMs: timing.createdMs, startedMs: timing.startedMs, endedMs: Date.now(), outcome, error };
      for (const listener of this.callEndListeners) {
        try {
          listener(end);
        } catch (err) {
          this.log.error({ err, call_id: req.callId }, 'call-end listener failed');
        }
      }
    };
    try {
      const res = await this.dispatch(req, timing);
      if (Buffer.isBuffer(res.body)) done('success');
      else finished(res.body, (err) => done(err ? 'killed' : 'success', err ?? undefined));
      return res;
    } catch (err) {
      done(isFntsError(err) ? outcomeOf(err) : 'error', err as Error);
      throw err;
    }
  }

  private async dispatch(req: CallRequest, timing: { startedMs: number | undefined }): Promise<CallResponse> {
    const body = this.requestBody(req.body);
    const pool = this.poolFor(req.app, req.fn);
    const container = await pool.acquire(req.signal);
    timing.startedMs = Date.now();
    container.callIds.add(req.callId);
    // Fn starts the timeout clock once a container is acquired (CONTRACT §2.4).
    const timeoutMs = req.fn.timeout * 1000;
    const deadline = Date.now() + timeoutMs;
    const own = req.signal instanceof CallCancel ? req.signal : undefined;
    const ac = own ?? new CallCancel();
    const timer = setTimeout(() => ac.abort(errors.timedOut()), timeoutMs);
    const onClientGone = own ? undefined : () => ac.abort(new ClientGoneError());
    if (onClientGone) onCancel(req.signal, onClientGone);
    const settle = (reuse: boolean) => {
      clearTimeout(timer);
      if (onClientGone) offCancel(req.signal, onClientGone);
      if (reuse) pool.release(container, req.callId, timing.startedMs);
      else void pool.discard(container);
    };

    let res: CallAnswer;
    try {
      res = await requestCall(container.client, {
        path: CALL_PATH,
        method: CALL_METHOD,
        headers: callHeaders(req.headers, req.callId, deadline),
        body,
      }, ac, WHOLE_ANSWER_BYTES);
    } catch (err) {
      // Explained before the container is removed, so a removal's SIGKILL is never taken for the cause.
      const failure = await explainCallFailure(container, ac, err);
      if (!failure.keepContainer) this.log.warn({ call_id: req.callId, container: container.name, err }, failure.error.message);
      settle(failure.keepContainer);
      throw failure.error;
    }

    switch (res.statusCode) {
      case 200: {
        if (res.whole) {
          settle(!ac.aborted);
          return { headers: res.headers, body: res.whole };
        }
        // A deadline or disconnect while the body streams kills the container; a clean end keeps it.
        const streamed = res.body as Readable;
        finished(streamed, (err) => settle(!err && !ac.aborted));
        return { headers: res.headers, body: streamed };
      }
      case 502:
      case 504: {
        // The FDK caught the failure itself and the container is kept (CONTRACT §2.2). Fn discards the FDK's body;
        // fnts keeps the function's own error message from it (bounded), so the caller learns what went wrong.
        const { head, complete } = await readErrorBody(res.whole ?? (res.body as Readable));
        settle(complete && !ac.aborted);
        if (res.statusCode === 504) throw errors.timedOut();
        throw errors.functionFailed(errorDetailOf(head));
      }
      default:
        this.log.warn({ call_id: req.callId, status: res.statusCode }, 'function answered an invalid status');
        res.body?.destroy();
        settle(false);
        throw errors.invalidResponse(`the function answered status ${res.statusCode}; the FDK answers 200, 502 or 504`);
    }
  }

  private requestBody(body: Readable | Buffer | null): Readable | Buffer | null {
    if (body === null) return null;
    if (Buffer.isBuffer(body)) {
      if (body.length > this.config.maxRequestBytes) {
        throw errors.payloadTooLarge(`request body is larger than the limit of ${this.config.maxRequestBytes} bytes`);
      }
      return body;
    }
    // An async iterable keeps a stream chunked even when it has fully arrived; undici's types omit them.
    return chunked(this.limited(body)) as unknown as Readable;
  }

  /** Streams the request body through, failing the call with 413 once it passes the size limit. */
  private limited(body: Readable): Readable {
    const max = this.config.maxRequestBytes;
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > max) done(errors.payloadTooLarge(`request body is larger than the limit of ${max} bytes`));
        else done(null, chunk);
      },
    });
    body.on('error', (err) => counter.destroy(err));
    return body.pipe(counter);
  }

  private poolFor(app: App, fn: Fn): HotContainerPool {
    const key = this.versionOf(app, fn).poolKey;
    const existing = this.pools.get(key);
    if (existing) return existing;
    const previous = this.currentKey.get(fn.id);
    if (previous !== undefined) {
      const old = this.pools.get(previous);
      this.pools.delete(previous);
      if (old) {
        old.retire();
        this.retired.add(old);
      }
    }
    for (const p of this.retired) if (p.drained) this.retired.delete(p);
    const cfg = this.config;
    const maxContainers = fn.max_containers ?? cfg.maxContainersPerFn;
    const settings: PoolSettings = {
      key,
      appId: app.id,
      fnId: fn.id,
      metricLabels: this.versionOf(app, fn).labels,
      image: fn.image,
      env: containerEnv(app, fn),
      labels: { ...cfg.containerLabels, ...this.identity.labels, 'fnts.app': app.id, 'fnts.fn': fn.id },
      memoryMiB: fn.memory,
      concurrency: fn.concurrency ?? 1,
      networkMode: cfg.networkMode,
      pidsLimit: cfg.pidsLimit,
      syslogUrl: app.syslog_url,
      iofsDir: this.identity.iofsDir,
      startTimeoutMs: cfg.hotStartTimeoutMs,
      imagePull: cfg.imagePull,
      pullTimeoutMs: cfg.pullTimeoutMs,
      maxContainers,
      minContainers: Math.min(minContainersOf(fn.annotations), maxContainers),
      maxQueue: cfg.maxQueuePerFn,
      queueTimeoutMs: cfg.queueTimeoutMs,
      idleTimeoutMs: fn.idle_timeout * 1000,
      freezeIdleMs: cfg.freezeIdleMs,
      scaleOut: cfg.scaleOut,
      warmUpCalls: cfg.warmUpCalls,
      maxLineBytes: cfg.logMaxLineBytes,
      iofsSizeBytes: cfg.iofsSizeBytes,
      logRateBytes: cfg.logRateBytesPerContainer,
    };
    const log = this.log.child({ fn_id: fn.id });
    const pool = new HotContainerPool(settings, {
      driver: this.driver,
      budget: this.budget,
      metrics: this.metrics,
      log,
      evict: (mib, except) => this.evict(mib, except),
      launch: (s, signal, onOutput) => this.stems.launch(s, s.metricLabels, log, signal, onOutput),
      warmUp: (image, send) => this.warmUpInTurn(image, send),
      onOutput: {
        line: (piece, container, callId, toServerLog) => {
          const marks = piece.continues ? { continues: true as const } : {};
          if (toServerLog) log.info({ user_log: true, app_id: app.id, container, call_id: callId, ...marks }, piece.text);
          this.logs.publish({
            time: new Date().toISOString(), app_id: app.id, fn_id: fn.id, container, line: piece.text,
            ...(callId ? { call_id: callId } : {}), ...marks,
          });
        },
        suppressed: (container, x) => {
          this.metrics.outputSuppressed.inc(settings.metricLabels, x.lines);
          log.warn({ app_id: app.id, container, lines: x.lines, bytes: x.bytes },
            'function output past the server-log rate was left out of the server log (it is still in the fn\'s logs)');
        },
      },
    });
    this.pools.set(key, pool);
    this.currentKey.set(fn.id, key);
    return pool;
  }

  private allPools(): HotContainerPool[] {
    return [...this.pools.values(), ...this.retired];
  }

  /** Frees `mib` by removing the longest-idle containers of other pools, only if that is enough (CONTRACT §3.5). */
  private evict(mib: number, except: HotContainerPool): boolean {
    // Containers above their fn's minimum go first, longest idle first; a fn's minimum only when nothing else does.
    const candidates = this.allPools()
      .filter((p) => p !== except)
      .flatMap((p) => p.evictionCandidates().map(({ c, kept }) => ({ p, c, kept })))
      .sort((a, b) => Number(a.kept) - Number(b.kept) || a.c.idleSince - b.c.idleSince);
    const chosen: typeof candidates = [];
    let freed = this.budget.totalMiB - this.budget.usedMiB;
    for (const cand of candidates) {
      if (freed >= mib) break;
      chosen.push(cand);
      freed += cand.c.memoryMiB;
    }
    if (freed < mib) return false;
    this.log.info({ evicted: chosen.map((x) => x.c.name), for_mib: mib }, 'evicting idle containers for memory');
    for (const { p, c } of chosen) void p.discard(c);
    return true;
  }

  /**
   * A deploy or update stored a new version of `fn`: its first container (when warm-on-deploy holds for it) and its
   * minimum start in the background, and the old version's idle containers go. Never throws: a failed start is the
   * pool's to log and count, and the deploy has succeeded whatever happens here.
   */
  prestartNewVersion(app: App, fn: Fn): void {
    if (this.closing) return;
    this.stems.prefetch(fn.image);
    try {
      const pool = this.poolFor(app, fn);
      if (warmOnDeployOf(fn.annotations, this.config.warmOnDeploy)) pool.prestart(1, 'deploy');
      pool.prestart(pool.settings.minContainers, 'minimum');
    } catch (err) {
      this.log.warn({ err, fn_id: fn.id }, 'could not start a container for the new version');
    }
  }

  /** Starts a stored fn's minimum of hot containers (at server start, for each fn that has one). */
  keepMinimum(app: App, fn: Fn): void {
    if (this.closing || minContainersOf(fn.annotations) === 0) return;
    const pool = this.poolFor(app, fn);
    pool.prestart(pool.settings.minContainers, 'minimum');
  }

  /** A deleted fn: its calls in flight finish, then its containers go; nothing is kept for its minimum. */
  forgetFn(fnId: string): void {
    const key = this.currentKey.get(fnId);
    this.currentKey.delete(fnId);
    this.versionsById.delete(fnId);
    const pool = key === undefined ? undefined : this.pools.get(key);
    if (key === undefined || !pool) return;
    this.pools.delete(key);
    pool.retire();
    this.retired.add(pool);
  }

  /** The warm-up under way, if any: warm-ups are CPU the server's calls share, so they run one after another. */
  private warmUpTurn: Promise<void> = Promise.resolve();

  private warmUpInTurn(image: string, send: () => Promise<void>): Promise<void> {
    const turn = this.warmUpTurn.then(async () => {
      const info = await this.driver.imageInfo(image);
      if (info !== undefined && isBundleEntrypoint(info.entrypoint)) await send();
    });
    this.warmUpTurn = turn.catch(() => undefined);
    return turn;
  }

  /** Counts containers by state for /metrics. */
  containerStates(): Record<'busy' | 'idle' | 'paused', number> {
    const states = { busy: 0, idle: 0, paused: 0 };
    for (const p of this.allPools()) {
      states.busy += p.size - p.idleContainers().length;
      for (const c of p.idleContainers()) states[c.state === 'paused' ? 'paused' : 'idle']++;
    }
    return states;
  }

  /**
   * Counts each function's containers by state, and its calls waiting for one, for /metrics (all its versions' pools
   * together). Read at a scrape, not kept up to date per call: a gauge set per call hashed its labels twice a call.
   */
  containerStatesByFn(): { labels: FnLabels; states: Record<'busy' | 'idle' | 'paused', number>; queued: number }[] {
    const byFn = new Map<string, { labels: FnLabels; states: Record<'busy' | 'idle' | 'paused', number>; queued: number }>();
    for (const p of this.allPools()) {
      const labels = p.settings.metricLabels;
      let entry = byFn.get(labels.fn_id);
      if (!entry) byFn.set(labels.fn_id, (entry = { labels, states: { busy: 0, idle: 0, paused: 0 }, queued: 0 }));
      entry.queued += p.queued;
      const idle = p.idleContainers();
      entry.states.busy += p.size - idle.length;
      for (const c of idle) entry.states[c.state === 'paused' ? 'paused' : 'idle']++;
    }
    return [...byFn.values()];
  }

  /** Number of live containers across pools. */
  containerCount(): number {
    return this.allPools().reduce((n, p) => n + p.size, 0);
  }

  /**
   * Graceful shutdown: new and queued calls get 503, running calls get up to `graceMs` to finish,
   * then every container is removed.
   */
  async close(graceMs = this.config.shutdownGraceMs): Promise<void> {
    this.closing = true;
    for (const p of this.allPools()) p.rejectWaiters();
    if (this.inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), sleep(graceMs)]);
    }
    await Promise.all([...this.allPools().map((p) => p.close()), this.stems.close()]);
    this.pools.clear();
    this.retired.clear();
  }
}
