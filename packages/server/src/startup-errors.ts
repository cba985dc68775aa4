import { createServer } from 'node:net';

/** Stable codes of the operator's mistakes that stop a server from starting. */
export type StartupErrorCode =
  | 'FNTS_ERR_START_PORT_IN_USE'
  | 'FNTS_ERR_START_PORT_DENIED'
  | 'FNTS_ERR_START_ADDRESS'
  | 'FNTS_ERR_START_DB'
  | 'FNTS_ERR_START_DOCKER'
  | 'FNTS_ERR_START_LOG_FILE'
  | 'FNTS_ERR_START_STATE';

/**
 * A start refused because of the machine or the settings, not a bug: one line saying what is wrong and a hint saying
 * what to do. Entry points print both and exit 1, without a stack.
 */
export class StartupError extends Error {
  constructor(readonly code: StartupErrorCode, message: string, readonly hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** What `listen` failing on host:port means for the operator; anything unrecognised is returned as it was. */
export function listenFailure(err: unknown, host: string, port: number): unknown {
  const where = `${host}:${port}`;
  const another = 'pick another port with --port <n> or FNTS_PORT (0 picks a free one)';
  switch (errno(err)) {
    case 'EADDRINUSE':
      return new StartupError('FNTS_ERR_START_PORT_IN_USE', `port ${port} on ${host} is already in use`,
        `stop what listens there (is another fnts server running?), or ${another}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new StartupError('FNTS_ERR_START_PORT_DENIED', `not allowed to listen on ${where} (${errno(err)})`,
        `ports below 1024 need root or CAP_NET_BIND_SERVICE; ${another}`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError('FNTS_ERR_START_ADDRESS', `cannot listen on ${host}: no such address on this machine (${errno(err)})`,
        'pass an address this machine has with --host or FNTS_HOST (127.0.0.1 by default)', { cause: err });
    default:
      return err;
  }
}

/**
 * Binds host:port (with port 0, any port: the address is still checked) and lets go at once. Run before anything is built: the store and the reaper must not start for a
 * server that cannot listen (a second `fnts start` on the same database would reap the first one's containers).
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenFailure(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** What opening the SQLite file (or making its folder) failing means for the operator. */
export function storeFailure(err: unknown, path: string): unknown {
  const code = errno(err);
  const hint = 'pass another path with --db <path> or FNTS_DB (a new file is made there; its folder must be writable)';
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    EEXIST: 'a part of its folder path is a file, not a folder',
    ENOTDIR: 'a part of its folder path is a file, not a folder',
    ENOSPC: 'no space left on the device',
    SQLITE_CANTOPEN: 'SQLite cannot open it (is it a folder, or is its folder not writable?)',
    SQLITE_NOTADB: 'it is not an SQLite database',
    SQLITE_CORRUPT: 'the database is corrupt',
    SQLITE_READONLY: 'the file is read-only for this user',
    SQLITE_PERM: 'permission denied',
    SQLITE_FULL: 'no space left on the device',
  };
  const reason = code === undefined ? undefined : reasons[code];
  if (reason === undefined) return err;
  return new StartupError('FNTS_ERR_START_DB', `cannot open the database ${path}: ${reason}`, hint, { cause: err });
}

/** What Docker failing to answer at start means for the operator. */
export function dockerFailure(err: unknown, socketPath: string): unknown {
  const code = errno(err);
  const start = 'start Docker (e.g. `sudo systemctl start docker`, or `dockerd &`), or point DOCKER_HOST at its unix socket (unix:///path)';
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return new StartupError('FNTS_ERR_START_DOCKER', `Docker is not answering at ${socketPath} (${code})`, start, { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new StartupError('FNTS_ERR_START_DOCKER', `not allowed to use Docker's socket ${socketPath} (${code})`,
      'run fnts as a user in the docker group (`sudo usermod -aG docker $USER`, then log in again), or as root', { cause: err });
  }
  return err;
}

/** A named FNTS_DOCKER_RUNTIME the engine does not have; anything else is returned as it was. */
export function runtimeFailure(err: unknown, setting: string): unknown {
  if (!(err as { unknownRuntime?: boolean }).unknownRuntime) return err;
  return new StartupError('FNTS_ERR_START_DOCKER', `FNTS_DOCKER_RUNTIME=${setting}: ${(err as Error).message}`,
    'register it with the engine (dockerd --add-runtime <name>=<path>, or "runtimes" in daemon.json), or set FNTS_DOCKER_RUNTIME=auto', { cause: err });
}

/** What opening the --log-file failing means for the operator. */
export function logFileFailure(err: unknown, path: string): unknown {
  const code = errno(err);
  if (code === undefined || !['EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EROFS', 'ENOENT', 'ENOSPC'].includes(code)) return err;
  return new StartupError('FNTS_ERR_START_LOG_FILE', `cannot write the log file ${path} (${code})`,
    'pass a file this user may write with --log-file <path> or FNTS_LOG_FILE', { cause: err });
}

/**
 * What connecting to PostgreSQL (or migrating its schema) failing at start means for the operator. Every failure of
 * that step is about the URL, the server behind it or its rights, so each becomes one line; `shownUrl` carries no
 * password.
 */
export function postgresFailure(err: unknown, shownUrl: string): StartupError {
  const e = err as { code?: string; message?: string; name?: string };
  const fix = 'pass another URL with --db postgres://user:password@host:port/database or FNTS_DB';
  const sqlState: Record<string, [string, string]> = {
    '28P01': ['the password or user is wrong', fix],
    // Its own words say which: no such role, or no pg_hba.conf line for this user, host and database.
    '28000': [e.message ?? 'PostgreSQL refuses this user', `create the role, allow it in pg_hba.conf, or ${fix}`],
    '3D000': ['the database does not exist', `create it (\`createdb <name>\`), or ${fix}`],
    '42501': ['the user may not create the tables fnts needs', 'grant it CREATE on the database (or the public schema), or use another user'],
    '53300': ['PostgreSQL has no connection slot left', 'raise max_connections, or stop some clients'],
    '57P03': ['PostgreSQL is starting up or shutting down', 'wait until it accepts connections, then start fnts again'],
  };
  const network: Record<string, [string, string]> = {
    ECONNREFUSED: ['nothing listens there (ECONNREFUSED)', `start PostgreSQL, or ${fix}`],
    ENOENT: ['no PostgreSQL socket there (ENOENT)', `start PostgreSQL, or ${fix}`],
    ENOTFOUND: ['no such host (ENOTFOUND)', fix],
    EAI_AGAIN: ['the host name cannot be resolved now (EAI_AGAIN)', fix],
    ETIMEDOUT: ['the connection timed out (ETIMEDOUT)', `check that the host is reachable and PostgreSQL listens there, or ${fix}`],
    EHOSTUNREACH: ['the host is unreachable (EHOSTUNREACH)', fix],
  };
  const [reason, hint] = (e.code !== undefined ? sqlState[e.code] ?? network[e.code] : undefined)
    ?? (e.name === 'SchemaTooNew' ? [e.message ?? 'the schema is newer than this server', 'upgrade fnts on this server to the version the others run'] : undefined)
    ?? (/timeout/i.test(e.message ?? '') ? ['the connection timed out', `check that the host is reachable and PostgreSQL listens there, or ${fix}`] : undefined)
    ?? [(e.message ?? String(err)).split('\n')[0] as string, fix];
  return new StartupError('FNTS_ERR_START_DB', `cannot open the database ${shownUrl}: ${reason}`, hint, { cause: err });
}
