import { createHash } from 'node:crypto';
import { Transform, finished, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { ServerConfig } from '../config.js';
import { errors, FntsError, isFntsError } from '../errors.js';
import type { App, Fn } from '../store/models.js';
import { IOFS_MOUNT, type DockerDriver } from './docker.js';
import type { HotContainer } from './hot-container.js';
import { formatDeadline, type HeaderMap } from './http-headers.js';
import { HotContainerPool, type PoolSettings } from './pool.js';
import { SOCKET_NAME } from './socket-wait.js';

/** One call as the agent sees it: who to run, the headers for the function, and the body to stream in. */
export interface CallRequest {
  app: App;
  fn: Fn;
  callId: string;
  /** Headers for `POST /call`, without Fn-Call-Id and Fn-Deadline, which the agent adds. */
  headers: HeaderMap;
  body: Readable | null;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
}

/** A successful call: the FDK said 200. The body streams; the container is released when it ends. */
export interface CallResponse {
  headers: HeaderMap;
  body: Readable;
}

/** A caller that went away gets no response; Fn logs this as status 444. */
export class ClientGoneError extends FntsError {
  constructor() {
    super(444, 'FNTS_ERR_CALL_CLIENT_GONE', 'client closed the request');
  }
}

/** The platform variables of CONTRACT §1.1, written over the user's config. */
export function containerEnv(app: App, fn: Fn): Record<string, string> {
  const config = { ...app.config, ...fn.config };
  return {
    ...config,
    FNTS_CONFIG_KEYS: Object.keys(config).sort().join(','),
    FN_MEMORY: String(fn.memory),
    FN_TYPE: 'sync',
    FN_FN_ID: fn.id,
    FN_APP_ID: app.id,
    FN_FN_NAME: fn.name,
    FN_APP_NAME: app.name,
    FN_LISTENER: `unix:${IOFS_MOUNT}/${SOCKET_NAME}`,
    FN_FORMAT: 'http-stream',
  };
}

/** Any change to what a container was started with starts a new pool (CONTRACT §3.1). */
export function poolKey(app: App, fn: Fn): string {
  const identity = {
    app: app.id, syslog: app.syslog_url ?? '', fn: fn.id, image: fn.image, memory: fn.memory, timeout: fn.timeout,
    idle: fn.idle_timeout, env: Object.entries(containerEnv(app, fn)).sort(),
    annotations: Object.entries({ ...app.annotations, ...fn.annotations }).sort(),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

/** Runs calls in hot containers: one pool per function version, one call per container at a time. */
export class Agent {
  private readonly pools = new Map<string, HotContainerPool>();
  /** The current pool key of each function, so a changed function retires its old pool. */
  private readonly currentKey = new Map<string, string>();
  /** Pools of superseded function versions whose busy containers are still finishing. */
  private readonly retired = new Set<HotContainerPool>();
  readonly instance = ulid().toLowerCase();
  private closing = false;

  constructor(
    private readonly config: ServerConfig,
    private readonly driver: DockerDriver,
    private readonly log: Logger,
  ) {}

  /** Runs one call; resolves once the function has answered 200, or rejects with the call's error. */
  async call(req: CallRequest): Promise<CallResponse> {
    if (this.closing) throw errors.serverBusy();
    const pool = this.poolFor(req.app, req.fn);
    const container = await pool.acquire(req.signal);
    container.currentCallId = req.callId;
    // Fn starts the timeout clock once a container is acquired (CONTRACT §2.4).
    const timeoutMs = req.fn.timeout * 1000;
    const deadline = new Date(Date.now() + timeoutMs);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(errors.timedOut()), timeoutMs);
    const onClientGone = () => ac.abort(new ClientGoneError());
    req.signal.addEventListener('abort', onClientGone, { once: true });
    const settle = (reuse: boolean) => {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onClientGone);
      if (reuse) pool.release(container);
      else void pool.discard(container);
    };

    let res;
    try {
      res = await container.client.request({
        path: '/call',
        method: 'POST',
        headers: { ...req.headers, 'fn-call-id': req.callId, 'fn-deadline': formatDeadline(deadline) },
        body: req.body ? this.limited(req.body) : null,
        signal: ac.signal,
      });
    } catch (err) {
      settle(false);
      throw await this.callFailure(container, ac.signal, err);
    }

    switch (res.statusCode) {
      case 200: {
        finished(res.body, (err) => settle(!err && !ac.signal.aborted));
        return { headers: res.headers as HeaderMap, body: res.body };
      }
      case 502:
      case 504:
        // The FDK caught the failure itself; its body is discarded and the container kept (CONTRACT §2.2).
        await res.body.dump().catch(() => undefined);
        settle(!ac.signal.aborted);
        throw res.statusCode === 502 ? errors.functionFailed() : errors.timedOut();
      default:
        this.log.warn({ call_id: req.callId, status: res.statusCode }, 'function answered an invalid status');
        res.body.destroy();
        settle(false);
        throw errors.invalidResponse();
    }
  }

  /** Names the cause of a failed exchange: timeout, caller gone, oversized body, or the container's death. */
  private async callFailure(c: HotContainer, signal: AbortSignal, err: unknown): Promise<FntsError> {
    if (signal.aborted && isFntsError(signal.reason)) return signal.reason;
    if (isFntsError(err)) return err;
    // A dying container closes the socket a moment before Docker reports its exit.
    const info = c.exitInfo ?? (await Promise.race([c.exited, sleep(500).then(() => undefined)]));
    if (info?.oomKilled) {
      return errors.receiveFailed('the container ran out of memory and was killed; raise the function\'s memory');
    }
    if (info) return errors.receiveFailed(`the container exited with code ${info.exitCode}`);
    return errors.receiveFailed((err as Error).message);
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
    const key = poolKey(app, fn);
    let pool = this.pools.get(key);
    if (pool) return pool;
    const previous = this.currentKey.get(fn.id);
    if (previous !== undefined) {
      const old = this.pools.get(previous);
      this.pools.delete(previous);
      if (old) {
        this.retired.add(old);
        void old.retire();
      }
    }
    const settings: PoolSettings = {
      key,
      appId: app.id,
      fnId: fn.id,
      image: fn.image,
      env: containerEnv(app, fn),
      labels: {
        ...this.config.containerLabels,
        'fnts.app': app.id,
        'fnts.fn': fn.id,
        'fnts.instance': this.instance,
      },
      memoryMiB: fn.memory,
      idleTimeoutMs: fn.idle_timeout * 1000,
      networkMode: this.config.networkMode,
      pidsLimit: this.config.pidsLimit,
      iofsDir: this.config.iofsDir,
      startTimeoutMs: this.config.hotStartTimeoutMs,
    };
    pool = new HotContainerPool(settings, this.driver, this.log.child({ fn_id: fn.id }));
    this.pools.set(key, pool);
    this.currentKey.set(fn.id, key);
    return pool;
  }

  /** Number of live containers across pools (for tests and metrics). */
  containerCount(): number {
    let n = 0;
    for (const pool of [...this.pools.values(), ...this.retired]) n += pool.size;
    return n;
  }

  /** Refuses new calls and removes every container. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.pools.values(), ...this.retired].map((p) => p.close()));
    this.pools.clear();
    this.retired.clear();
  }
}
