import { IOFS_MOUNT } from '@fnts/api/contract';
import Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';

/** What the agent needs to start one function container. */
export interface ContainerSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  socketDir: string;
  memoryMiB: number;
  networkMode: string;
  pidsLimit: number;
  /** When the app has a syslog_url, Docker's syslog driver sends the output there too (CONTRACT §1.6). */
  syslogUrl: string | undefined;
  syslogTag: string;
  /** Overrides the image's entrypoint (a stem cell runs the base image's loader). */
  entrypoint?: string[];
}

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
}

/** The label every container and image made by fnts carries; reaping keys on it. */
export const MANAGED_LABEL = 'fnts.managed';

/**
 * FNTS_DOCKER_RUNTIME: `auto` takes `crun` when the engine has it registered (it starts a container tens of
 * milliseconds sooner than runc, with the same isolation) and the engine's default otherwise; `default` is always the
 * engine's default; any other value is the name of a runtime the engine must have.
 */
export type RuntimeSetting = 'auto' | 'default' | (string & {});

/** The runtime `auto` prefers. */
const PREFERRED_RUNTIME = 'crun';

/** Whether a failed start is the OCI runtime refusing to run the container (not the image's or the engine's fault). */
export function isRuntimeRefusal(err: unknown): boolean {
  const e = (err ?? {}) as { json?: { message?: unknown }; message?: unknown };
  const message = typeof e.json?.message === 'string' ? e.json.message : typeof e.message === 'string' ? e.message : '';
  return /OCI runtime (create|start) failed/i.test(message);
}

/** The thin layer over dockerode: the only place that knows Docker's API shapes. */
export class DockerDriver {
  readonly docker: Docker;
  /** The runtime containers are created with; undefined is the engine's default (set by chooseRuntime). */
  private runtime: string | undefined;
  /** `auto` chose the runtime: a refusal to start falls back to the engine's default (once, server-wide). */
  private mayFallBack = false;
  /** Create options of containers created but not yet started, for the fallback's re-create. */
  private readonly pendingStarts = new Map<string, Docker.ContainerCreateOptions>();
  /** Told when the chosen runtime refused a container and the driver fell back to the engine's default. */
  onRuntimeFallback: (runtime: string, reason: string) => void = () => undefined;

  /** `engine`: the engine's unix socket, or a client of it. */
  constructor(engine: string | Docker) {
    this.docker = typeof engine === 'string' ? new Docker({ socketPath: engine }) : engine;
  }

  /** The runtime name containers get (`default` when the engine's default is left to it). */
  get runtimeName(): string {
    return this.runtime ?? 'default';
  }

  /**
   * Picks the OCI runtime from the setting and the engine's registered runtimes; rejects when a named runtime is not
   * registered. Until it is called, containers get the engine's default.
   */
  async chooseRuntime(setting: RuntimeSetting): Promise<string> {
    if (setting === 'default') {
      this.runtime = undefined;
      return this.runtimeName;
    }
    const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown>; DefaultRuntime?: string };
    const registered = Object.keys(info.Runtimes ?? {});
    if (setting === 'auto') {
      const preferred = registered.includes(PREFERRED_RUNTIME) && info.DefaultRuntime !== PREFERRED_RUNTIME;
      this.runtime = preferred ? PREFERRED_RUNTIME : undefined;
      this.mayFallBack = preferred;
      return this.runtimeName;
    }
    if (!registered.includes(setting)) {
      throw Object.assign(new Error(`the Docker engine has no runtime named ${JSON.stringify(setting)} (it has ${registered.join(', ') || 'none'})`), { unknownRuntime: true });
    }
    this.runtime = setting;
    this.mayFallBack = false;
    return this.runtimeName;
  }

  /** Pulls an image from its registry (the engine's credentials apply); rejects with Docker's message. */
  async pull(image: string, timeoutMs: number): Promise<void> {
    const stream = (await this.docker.pull(image)) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        reject(Object.assign(new Error('Image pull timed out'), { timedOut: true }));
      }, timeoutMs);
      this.docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
        clearTimeout(timer);
        const failed = err ?? (events.find((e) => e.error) ? new Error(events.find((e) => e.error)?.error) : null);
        if (failed) reject(failed);
        else resolve();
      });
    });
  }

  /** Creates the container with the isolation settings of CONTRACT §1.7, attaches its output, then starts it. */
  async start(spec: ContainerSpec): Promise<{ id: string; output: Readable }> {
    return this.attachAndStart(await this.create(spec));
  }

  /**
   * Creates the container with the isolation settings of CONTRACT §1.7; its socket dir need not exist yet, only by
   * the time it starts. Rejects with the engine's 404 when the image is missing.
   */
  async create(spec: ContainerSpec): Promise<string> {
    const options = createOptions(spec, this.runtime);
    const container = await this.docker.createContainer(options);
    if (this.mayFallBack) this.pendingStarts.set(container.id, options);
    return container.id;
  }

  /**
   * Attaches a created container's output (stdout and stderr merged, as in Fn: CONTRACT §1.6), then starts it.
   * When the runtime `auto` chose refuses to start it, the container is created again under the same name with the
   * engine's default runtime, hence the id this resolves with; if that one starts, the chosen runtime is what failed
   * (not the image), and every container from then on gets the default.
   */
  async attachAndStart(id: string): Promise<{ id: string; output: Readable }> {
    const options = this.pendingStarts.get(id);
    this.pendingStarts.delete(id);
    try {
      return { id, output: await this.attachAndStartOnce(id) };
    } catch (err) {
      if (options === undefined || !isRuntimeRefusal(err)) throw err;
      await this.remove(id);
      const again = await this.docker.createContainer({ ...options, HostConfig: { ...options.HostConfig, Runtime: undefined } });
      let output: Readable;
      try {
        output = await this.attachAndStartOnce(again.id);
      } catch (retryErr) {
        await this.remove(again.id).catch(() => undefined);
        throw retryErr;
      }
      if (this.mayFallBack && this.runtime !== undefined) {
        const reason = (err as { json?: { message?: unknown } }).json?.message;
        this.onRuntimeFallback(this.runtime, typeof reason === 'string' ? reason : String(err));
        this.runtime = undefined;
        this.mayFallBack = false;
      }
      return { id: again.id, output };
    }
  }

  private async attachAndStartOnce(id: string): Promise<Readable> {
    const container = this.docker.getContainer(id);
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const output = new PassThrough();
    this.docker.modem.demuxStream(stream, output, output);
    stream.on('end', () => output.end());
    await container.start();
    return output;
  }

  /** Resolves when the container stops, with its exit code and whether the kernel OOM-killed it. */
  async wait(id: string): Promise<ExitInfo> {
    const container = this.docker.getContainer(id);
    const result = (await container.wait()) as { StatusCode: number };
    let oomKilled = false;
    try {
      const info = await container.inspect();
      oomKilled = info.State.OOMKilled;
    } catch {
      // Already removed: the exit code is all we know.
    }
    return { exitCode: result.StatusCode, oomKilled };
  }

  /** A running container's memory limit, changed in place (swap equal to memory, as at start). */
  async setMemory(id: string, memoryMiB: number): Promise<void> {
    const bytes = memoryMiB * 1024 * 1024;
    await this.docker.getContainer(id).update({ Memory: bytes, MemorySwap: bytes });
  }

  /** An image's id, entrypoint and labels; undefined when the engine does not have it. */
  async imageInfo(image: string): Promise<{ id: string; entrypoint: string[]; labels: Record<string, string> } | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect();
      const entrypoint = info.Config.Entrypoint;
      return { id: info.Id, entrypoint: Array.isArray(entrypoint) ? entrypoint : [], labels: info.Config.Labels ?? {} };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** A tar of `path` in the image, read from a container that is created and removed, never started. */
  async readFromImage(image: string, path: string, labels: Record<string, string>): Promise<Buffer> {
    const container = await this.docker.createContainer({
      Image: image, Labels: { ...labels, [MANAGED_LABEL]: 'true' }, HostConfig: { NetworkMode: 'none' },
    });
    try {
      const stream = (await container.getArchive({ path })) as NodeJS.ReadableStream;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async pause(id: string): Promise<void> {
    await this.docker.getContainer(id).pause();
  }

  async unpause(id: string): Promise<void> {
    await this.docker.getContainer(id).unpause();
  }

  async remove(id: string): Promise<void> {
    this.pendingStarts.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw err; // gone already, or removal already in progress
    }
  }

  /** Ids of containers carrying every one of the given labels. */
  async listByLabels(labels: Record<string, string>): Promise<string[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.docker.listContainers({ all: true, filters });
    return list.map((c) => c.Id);
  }
}

/** The engine's create options for a function container: the isolation settings of CONTRACT §1.7. */
function createOptions(spec: ContainerSpec, runtime: string | undefined): Docker.ContainerCreateOptions {
  const bytes = spec.memoryMiB * 1024 * 1024;
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels, [MANAGED_LABEL]: 'true' },
    User: '1000:1000',
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Binds: [`${spec.socketDir}:${IOFS_MOUNT}`],
      NetworkMode: spec.networkMode,
      ...(runtime === undefined ? {} : { Runtime: runtime }),
      Init: true,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: bytes,
      MemorySwap: bytes,
      PidsLimit: spec.pidsLimit,
      Ulimits: [
        { Name: 'nofile', Soft: 350, Hard: 350 },
        { Name: 'memlock', Soft: 65536, Hard: 65536 },
        { Name: 'sigpending', Soft: 5000, Hard: 5000 },
        { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
      ],
      LogConfig: spec.syslogUrl
        ? {
            Type: 'syslog',
            Config: {
              'syslog-address': spec.syslogUrl,
              'syslog-facility': 'user',
              'syslog-format': 'rfc5424',
              tag: spec.syslogTag,
            },
          }
        : { Type: 'none', Config: {} },
    },
  };
}
