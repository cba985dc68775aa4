import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { newId } from './ids.js';
import { StartupError } from './startup-errors.js';

/** Where a server's identity comes from: config (FNTS_SERVER_ID), its state file, or nowhere (a throwaway store). */
export interface IdentitySettings {
  readonly serverId: string | undefined;
  readonly serverIdFile: string | undefined;
}

/**
 * Where the id is kept: `<FNTS_STATE_DIR>/server-id`; else beside the SQLite file (`fnts.db.server-id`, so servers
 * with their own files in one folder stay apart); else, for a database URL, `~/.fnts/data/server-id`. An in-memory
 * store has none.
 */
export function serverIdFile(
  config: { readonly stateDir: string | undefined; readonly dbPath: string; readonly postgresUrl: string | undefined },
): string | undefined {
  if (config.stateDir !== undefined) return join(config.stateDir, 'server-id');
  // A shared database is no place for one server's identity: it stays on this host.
  if (config.postgresUrl !== undefined) return join(homedir(), '.fnts', 'data', 'server-id');
  if (config.dbPath === ':memory:') return undefined;
  return `${config.dbPath}.server-id`;
}

/** The one read of the identity the meta table used to hold, so an upgraded server still reaps its own leftovers. */
export type LegacyIdReader = () => Promise<string | undefined>;

/** What names the server, and where that came from (logged at start). */
export interface ServerIdentity {
  readonly id: string;
  readonly source: 'config' | 'file' | 'upgraded' | 'new-file' | 'ephemeral';
}

/** Ids go into container labels and socket dir paths: no slashes, no dots at the start. */
export const SERVER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * This server's own identity. Several servers may share one database (PostgreSQL), so the id is not the database's:
 * it is FNTS_SERVER_ID, or a small file in the server's state dir, made once and read on every later start, so a
 * restart after a crash reaps exactly the containers and socket dirs of its earlier run.
 */
export async function resolveServerIdentity(settings: IdentitySettings, legacy: LegacyIdReader): Promise<ServerIdentity> {
  if (settings.serverId !== undefined) return { id: settings.serverId, source: 'config' };
  const file = settings.serverIdFile;
  // An in-memory store forgets everything at exit; a new id per run is what it always had.
  if (file === undefined) return { id: newId().toLowerCase(), source: 'ephemeral' };
  const existing = await readIdFile(file);
  if (existing !== undefined) return { id: existing, source: 'file' };
  const old = await legacy();
  const candidate = old !== undefined && SERVER_ID_PATTERN.test(old) ? old : newId().toLowerCase();
  const written = await writeIdFile(file, candidate);
  return { id: written, source: written === old ? 'upgraded' : 'new-file' };
}

async function readIdFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stateFailure(err, file);
  }
  const id = text.trim();
  if (!SERVER_ID_PATTERN.test(id)) {
    throw new StartupError('FNTS_ERR_START_STATE', `the server id file ${file} does not hold a server id`,
      'remove the file (a new id is made; containers of the old one are then not reaped) or set FNTS_SERVER_ID');
  }
  return id;
}

async function writeIdFile(file: string, id: string): Promise<string> {
  try {
    await mkdir(dirname(file), { recursive: true });
    // Written whole under a unique name, then linked into place: a reader never sees half a file, and a hard link
    // fails with EEXIST when the name exists, so the first of two servers starting at once wins.
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, `${id}\n`, { mode: 0o600 });
    try {
      await link(tmp, file).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(tmp, { force: true });
    }
  } catch (err) {
    throw stateFailure(err, file);
  }
  return (await readIdFile(file)) ?? id;
}

function stateFailure(err: unknown, file: string): unknown {
  if (err instanceof StartupError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return err;
  return new StartupError('FNTS_ERR_START_STATE', `cannot keep the server id in ${file} (${code})`,
    'pass a folder this user may write with FNTS_STATE_DIR, or set FNTS_SERVER_ID', { cause: err });
}
