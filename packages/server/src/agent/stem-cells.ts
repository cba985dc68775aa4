import { SOCKET_NAME } from '@fnts/api/contract';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { FnLabels, Metrics } from '../metrics.js';
import { BundleCache, type Bundle } from './bundle-cache.js';
import type { MemoryBudget } from './capacity.js';
import type { DockerDriver, ExitInfo } from './docker.js';
import { HotContainer, socketClient } from './hot-container.js';
import { createSocketDir, removeSocketDir } from './iofs.js';
import { launchContainer, tagOutput, type LaunchSettings, type OutputSink } from './launcher.js';
import { armSocketWait } from './socket-wait.js';

/**
 * Stem cells (after Apache OpenWhisk's prewarmed containers): a few base-image containers started before any
 * function needs them, hardened exactly like function containers (driver.start), each waiting in the base image's
 * loader on `stem.sock` in its socket dir. A cold start of a typescript/node function claims one instead of running
 * `docker run`: the memory limit becomes the fn's (docker update), the loader gets the fn's bundle and environment,
 * and imports it; the FDK then publishes the socket as usual. A claimed container is that function version's until it
 * is removed. Anything the path cannot do (no stem ready, another kind of image, a failure) starts a new container.
 */

/** The loader's path in the base image and its socket's name (packages/cli/src/build/stem-loader.ts). */
const STEM_LOADER_PATH = '/fnts/stem-loader.mjs';
const STEM_SOCKET = 'stem.sock';
/** After a stem cell fails to start, none is started for this long (a broken base image must not loop). */
const FAILURE_PAUSE_MS = 30_000;
/** How long a missing base image is remembered before the engine is asked again. */
const BASE_RECHECK_MS = 10_000;

export interface StemSettings {
  /** Stem cells kept ready (FNTS_STEM_CELLS); 0 turns the path off. */
  count: number;
  /** Memory each one reserves until claimed (the budget counts it like any container's). */
  memoryMiB: number;
  /** The base image whose loader they run: `fnts/node:<this server's Node major>`. */
  image: string;
  labels: Record<string, string>;
  networkMode: string;
  pidsLimit: number;
  iofsDir: string;
  iofsSizeBytes: number;
  startTimeoutMs: number;
}

interface Stem {
  id: string;
  name: string;
  socketDir: string;
  output: Readable;
  exited: Promise<ExitInfo>;
}

export class StemCellPool {
  private readonly ready: Stem[] = [];
  private starting = 0;
  private closed = false;
  private pausedUntil = 0;
  private waitingForMemory = false;
  /** The base image's labels; undefined while it is missing (checked again after BASE_RECHECK_MS). */
  private base: { labels: Record<string, string> | undefined; checkedAt: number } | undefined;
  private readonly bundles: BundleCache;
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly s: StemSettings,
    private readonly driver: DockerDriver,
    private readonly budget: MemoryBudget,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.bundles = new BundleCache(driver, s.labels, log);
  }

  /** Starts stem cells until `count` are ready or starting, as memory allows; in the background. */
  refill(): void {
    if (this.closed || this.s.count === 0 || Date.now() < this.pausedUntil) return;
    this.track(this.fill());
  }

  /** Starts a container for `s`: from a stem cell when one can become it, else with `docker run` (launcher.ts). */
  async launch(s: LaunchSettings, labels: FnLabels, log: Logger, signal: AbortSignal, onOutput: OutputSink): Promise<HotContainer> {
    const claimed = await this.claim(s, log, signal, onOutput);
    this.metrics.stemClaims.inc({ ...labels, outcome: claimed ? 'claimed' : 'new_container' });
    return claimed ?? launchContainer(s, this.driver, log, signal, onOutput);
  }

  /** Reads a new function version's bundle ahead of its first cold start (a deploy), so that start does not pay for it. */
  prefetch(image: string): void {
    if (this.s.count === 0 || this.closed) return;
    this.track((async () => {
      const base = await this.baseLabels();
      if (base) await this.bundles.bundleFor(image, base);
    })().catch(() => undefined));
  }

  /** Removes the stem cells, waiting for those still starting. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await Promise.all(this.pending);
    await Promise.all(this.ready.splice(0).map((stem) => this.destroy(stem)));
    this.publish();
  }

  private publish(): void {
    this.metrics.stemCellsReady.set(this.ready.length);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async baseLabels(): Promise<Record<string, string> | undefined> {
    if (this.base && (this.base.labels || Date.now() - this.base.checkedAt < BASE_RECHECK_MS)) return this.base.labels;
    const info = await this.driver.imageInfo(this.s.image).catch(() => undefined);
    const labels = info && info.labels['fnts.stem-loader'] !== undefined ? info.labels : undefined;
    this.base = { labels, checkedAt: Date.now() };
    return labels;
  }

  private async fill(): Promise<void> {
    if (!(await this.baseLabels())) return;
    while (!this.closed && this.ready.length + this.starting < this.s.count && Date.now() >= this.pausedUntil) {
      if (!this.budget.tryReserve(this.s.memoryMiB)) {
        this.waitForMemory();
        return;
      }
      this.starting++;
      this.track(this.startOne().then(
        (stem) => {
          this.starting--;
          if (this.closed) return this.destroy(stem);
          this.ready.push(stem);
          this.publish();
          // A stem cell that dies while it waits is replaced.
          void stem.exited.then(() => {
            const i = this.ready.indexOf(stem);
            if (i < 0) return;
            this.ready.splice(i, 1);
            this.publish();
            this.budget.release(this.s.memoryMiB);
            this.log.warn({ container: stem.name }, 'a stem cell exited while waiting');
            this.pausedUntil = Date.now() + FAILURE_PAUSE_MS;
            void this.destroy(stem);
          });
          return undefined;
        },
        (err: unknown) => {
          this.starting--;
          this.budget.release(this.s.memoryMiB);
          if (this.closed) return;
          this.pausedUntil = Date.now() + FAILURE_PAUSE_MS;
          this.log.warn({ err }, 'starting a stem cell failed; cold starts use new containers for a while');
        },
      ));
    }
  }

  private waitForMemory(): void {
    if (this.waitingForMemory) return;
    this.waitingForMemory = true;
    this.budget.onRelease(() => {
      this.waitingForMemory = false;
      this.refill();
    });
  }

  private async startOne(): Promise<Stem> {
    const socketDir = await createSocketDir(this.s.iofsDir, this.s.iofsSizeBytes, this.log);
    const waiter = armSocketWait(socketDir, STEM_SOCKET);
    const name = `fnts-stem-${newId().toLowerCase()}`;
    let started: { id: string; output: Readable };
    try {
      started = await this.driver.start({
        name, image: this.s.image, env: {}, labels: { ...this.s.labels, 'fnts.stem': 'true' }, socketDir,
        memoryMiB: this.s.memoryMiB, networkMode: this.s.networkMode, pidsLimit: this.s.pidsLimit, syslogUrl: undefined,
        syslogTag: '', entrypoint: ['node', STEM_LOADER_PATH],
      });
    } catch (err) {
      waiter.close();
      await removeSocketDir(socketDir);
      throw err;
    }
    const stem: Stem = { id: started.id, name, socketDir, output: started.output, exited: this.driver.wait(started.id).catch(() => ({ exitCode: -1, oomKilled: false })) };
    const outcome = await Promise.race([
      waiter.wait(this.s.startTimeoutMs, this.abort.signal),
      stem.exited.then(() => ({ kind: 'exited' as const })),
    ]);
    waiter.close();
    if (outcome.kind === 'ready') return stem;
    await this.destroy(stem);
    throw new Error(`stem cell did not open its loader socket (${outcome.kind})`);
  }

  private async destroy(stem: Stem): Promise<void> {
    stem.output.resume(); // nobody reads a removed stem's output
    await this.driver.remove(stem.id).catch((err: unknown) => this.log.warn({ err, container: stem.name }, 'stem cell removal failed'));
    await removeSocketDir(stem.socketDir);
  }

  /** A container for `s` made from a ready stem cell, or undefined (then the caller starts a new container). */
  private async claim(s: LaunchSettings, log: Logger, signal: AbortSignal, onOutput: OutputSink): Promise<HotContainer | undefined> {
    // Docker's syslog driver is fixed when a container is created; stems have none.
    if (this.s.count === 0 || this.closed || s.syslogUrl || s.networkMode !== this.s.networkMode) return undefined;
    const base = await this.baseLabels();
    if (!base || this.ready.length === 0) return undefined;
    const bundle = await this.bundles.bundleFor(s.image, base).catch(() => undefined);
    const stem = bundle ? this.ready.shift() : undefined;
    if (!bundle || !stem) return undefined;
    this.publish();
    // The pool reserved the fn's memory; the stem's own reservation ends with its claim.
    this.budget.release(this.s.memoryMiB);
    this.refill();
    const started = Date.now();
    try {
      return await this.become(stem, bundle, s, log, signal, onOutput, started);
    } catch (err) {
      log.warn({ err, container: stem.name }, 'a stem cell could not become the function; starting a new container');
      await this.destroy(stem);
      return undefined;
    }
  }

  private async become(
    stem: Stem, bundle: Bundle, s: LaunchSettings, log: Logger, signal: AbortSignal, onOutput: OutputSink, started: number,
  ): Promise<HotContainer> {
    if (s.memoryMiB !== this.s.memoryMiB) await this.driver.setMemory(stem.id, s.memoryMiB);
    let container: HotContainer | undefined;
    tagOutput(
      stem.output, s,
      (piece, framedCallId, toServerLog) => onOutput.line(piece, stem.name, framedCallId ?? container?.soleCallId, toServerLog),
      (x) => onOutput.suppressed(stem.name, x),
    );
    const waiter = armSocketWait(stem.socketDir);
    try {
      await sendBundle(join(stem.socketDir, STEM_SOCKET), bundle, s.env);
      container = new HotContainer(stem.id, stem.name, stem.socketDir, socketClient(join(stem.socketDir, SOCKET_NAME), s.concurrency),
        stem.exited, s.concurrency, s.memoryMiB);
      const outcome = await Promise.race([
        waiter.wait(s.startTimeoutMs, signal),
        stem.exited.then((info) => ({ kind: 'exited' as const, info })),
      ]);
      if (outcome.kind !== 'ready') throw new Error(`the function did not publish its socket (${outcome.kind})`);
    } finally {
      waiter.close();
    }
    log.info({ container: stem.name, ms: Date.now() - started, stem_cell: true }, 'container ready');
    container.moveTo('ready');
    return container;
  }
}

/** The claim message of stem-loader.ts: header length, JSON header, the files' bytes; then this side closes. */
function sendBundle(socketPath: string, bundle: Bundle, env: Record<string, string>): Promise<void> {
  const header = Buffer.from(JSON.stringify({
    env, sourceMaps: bundle.sourceMaps, files: bundle.files.map((f) => ({ name: f.name, size: f.data.length })),
  }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return new Promise<void>((resolve, reject) => {
    const conn = createConnection(socketPath);
    conn.on('error', reject);
    conn.on('close', () => resolve());
    conn.on('connect', () => {
      conn.write(length);
      conn.write(header);
      for (const f of bundle.files) conn.write(f.data);
      conn.end();
    });
    conn.resume();
  });
}
