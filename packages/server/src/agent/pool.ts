import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import { errors } from '../errors.js';
import type { ContainerSpec, DockerDriver, ExitInfo } from './docker.js';
import { HotContainer, socketClient } from './hot-container.js';
import { SOCKET_NAME, armSocketWait } from './socket-wait.js';

/** Everything a pool needs to start containers for one function version. */
export interface PoolSettings {
  key: string;
  appId: string;
  fnId: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  memoryMiB: number;
  idleTimeoutMs: number;
  networkMode: string;
  pidsLimit: number;
  iofsDir: string;
  startTimeoutMs: number;
}

/**
 * The hot containers of one function version (CONTRACT §3.1 key). Idle containers wait in a LIFO list so the
 * most recently used one serves the next call; each is removed after the function's idle timeout.
 */
export class HotContainerPool {
  private readonly idle: HotContainer[] = [];
  private readonly all = new Set<HotContainer>();
  private retired = false;

  constructor(
    readonly settings: PoolSettings,
    private readonly driver: DockerDriver,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.all.size;
  }

  /** Hands out an idle container, or starts a new one for this caller. */
  async acquire(signal: AbortSignal): Promise<HotContainer> {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      clearTimeout(c.idleTimer);
      if (c.exitInfo === undefined && c.transition('busy')) return c;
      void this.discard(c);
    }
    const c = await this.start(signal);
    c.transition('busy');
    return c;
  }

  /** Returns a container after a clean call; it serves the next call or leaves after the idle timeout. */
  release(c: HotContainer): void {
    c.currentCallId = undefined;
    if (this.retired || c.exitInfo !== undefined || !c.transition('idle')) {
      void this.discard(c);
      return;
    }
    c.idleTimer = setTimeout(() => {
      this.log.debug({ container: c.name }, 'idle timeout');
      void this.discard(c);
    }, this.settings.idleTimeoutMs);
    c.idleTimer.unref();
    this.idle.push(c);
  }

  /** Removes a container for good: after a failure, an idle timeout, or at shutdown. */
  async discard(c: HotContainer): Promise<void> {
    if (!this.all.has(c)) return;
    this.all.delete(c);
    clearTimeout(c.idleTimer);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    c.transition('stopping');
    await c.client.destroy().catch(() => undefined);
    await this.driver.remove(c.id).catch((err: unknown) => this.log.warn({ err, container: c.name }, 'container removal failed'));
    await rm(c.socketDir, { recursive: true, force: true });
  }

  /** Stops handing out containers; idle ones go now, busy ones when their call ends. */
  async retire(): Promise<void> {
    this.retired = true;
    await Promise.all([...this.idle].map((c) => this.discard(c)));
  }

  /** Removes every container, busy or not. */
  async close(): Promise<void> {
    this.retired = true;
    await Promise.all([...this.all].map((c) => this.discard(c)));
  }

  private async start(signal: AbortSignal): Promise<HotContainer> {
    const s = this.settings;
    if (!(await this.driver.imageExists(s.image))) throw errors.imageNotFound(s.image);
    await mkdir(s.iofsDir, { recursive: true });
    const socketDir = await mkdtemp(join(s.iofsDir, 'iofs'));
    // The FDK runs as uid 1000 and must create its socket here (CONTRACT §1.2).
    await chmod(socketDir, 0o777);
    const waiter = armSocketWait(socketDir);
    const name = `fnts-${ulid().toLowerCase()}`;
    const spec: ContainerSpec = {
      name, image: s.image, env: s.env, labels: s.labels, socketDir, memoryMiB: s.memoryMiB,
      networkMode: s.networkMode, pidsLimit: s.pidsLimit,
    };
    const started = Date.now();
    let id: string;
    let container: HotContainer | undefined;
    try {
      const result = await this.driver.start(spec);
      id = result.id;
      this.forwardOutput(result.output, name, () => container?.currentCallId);
    } catch (err) {
      waiter.close();
      await rm(socketDir, { recursive: true, force: true });
      throw err;
    }
    const exited = this.driver.wait(id).catch((): ExitInfo => ({ exitCode: -1, oomKilled: false }));
    container = new HotContainer(id, name, socketDir, socketClient(join(socketDir, SOCKET_NAME)), exited, this.log);
    this.all.add(container);
    const outcome = await Promise.race([
      waiter.wait(s.startTimeoutMs, signal),
      exited.then((info) => ({ kind: 'exited' as const, info })),
    ]);
    waiter.close();
    if (outcome.kind === 'ready') {
      this.log.info({ container: name, ms: Date.now() - started }, 'container ready');
      void exited.then((info) => this.onExit(container, info));
      return container;
    }
    await this.discard(container);
    switch (outcome.kind) {
      case 'exited':
        throw errors.containerInitFailed(
          outcome.info.oomKilled ? 'out of memory' : `container exited with code ${outcome.info.exitCode}`,
        );
      case 'invalid':
        throw errors.containerInitFailed(outcome.reason);
      case 'timeout':
        throw errors.containerInitTimeout();
      case 'aborted':
        throw errors.containerInitFailed('the call was cancelled while the container started');
    }
  }

  private onExit(c: HotContainer, info: ExitInfo): void {
    if (c.state === 'stopping') return;
    this.log.warn({ container: c.name, exit_code: info.exitCode, oom_killed: info.oomKilled },
      'container exited');
    if (c.state === 'idle') void this.discard(c);
  }

  private forwardOutput(output: NodeJS.ReadableStream, name: string, callId: () => string | undefined): void {
    const lines = createInterface({ input: output, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.log.debug(
        { user_log: true, app_id: this.settings.appId, container: name, call_id: callId() },
        line,
      );
    });
  }
}
