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

/** The thin layer over dockerode: the only place that knows Docker's API shapes. */
export class DockerDriver {
  readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
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
    const id = await this.create(spec);
    return { id, output: await this.attachAndStart(id) };
  }

  /**
   * Creates the container with the isolation settings of CONTRACT §1.7; its socket dir need not exist yet, only by
   * the time it starts. Rejects with the engine's 404 when the image is missing.
   */
  async create(spec: ContainerSpec): Promise<string> {
    const bytes = spec.memoryMiB * 1024 * 1024;
    const container = await this.docker.createContainer({
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
    });
    return container.id;
  }

  /** Attaches a created container's output (stdout and stderr merged, as in Fn: CONTRACT §1.6), then starts it. */
  async attachAndStart(id: string): Promise<Readable> {
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
