import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { resolveServerIdentity, serverIdFile } from '../src/server-identity.js';

const noLegacy = async (): Promise<string | undefined> => undefined;

describe("a server's own identity", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fnts-identity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes FNTS_SERVER_ID as given and writes no file', async () => {
    const file = join(dir, 'server-id');
    expect(await resolveServerIdentity({ serverId: 'web-1', serverIdFile: file }, noLegacy)).toEqual({ id: 'web-1', source: 'config' });
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes an id once in the state file and finds the same one on every later start', async () => {
    const file = join(dir, 'state', 'server-id');
    const first = await resolveServerIdentity({ serverId: undefined, serverIdFile: file }, noLegacy);
    expect(first.source).toBe('new-file');
    expect((await readFile(file, 'utf8')).trim()).toBe(first.id);
    expect(await resolveServerIdentity({ serverId: undefined, serverIdFile: file }, noLegacy)).toEqual({ id: first.id, source: 'file' });
  });

  it("keeps an upgraded server's id from the database's meta table, read once", async () => {
    const file = join(dir, 'server-id');
    let reads = 0;
    const legacy = async () => { reads += 1; return '01jold0000000000000000000a'; };
    expect(await resolveServerIdentity({ serverId: undefined, serverIdFile: file }, legacy)).toEqual({ id: '01jold0000000000000000000a', source: 'upgraded' });
    expect(await resolveServerIdentity({ serverId: undefined, serverIdFile: file }, legacy)).toMatchObject({ id: '01jold0000000000000000000a', source: 'file' });
    expect(reads).toBe(1);
  });

  it('gives two servers starting at once on one state dir one id', async () => {
    const file = join(dir, 'server-id');
    const ids = await Promise.all(Array.from({ length: 8 }, () => resolveServerIdentity({ serverId: undefined, serverIdFile: file }, noLegacy)));
    expect(new Set(ids.map((i) => i.id)).size).toBe(1);
  });

  it('gives a throwaway in-memory server a new id each time', async () => {
    const a = await resolveServerIdentity({ serverId: undefined, serverIdFile: undefined }, noLegacy);
    const b = await resolveServerIdentity({ serverId: undefined, serverIdFile: undefined }, noLegacy);
    expect(a.source).toBe('ephemeral');
    expect(a.id).not.toBe(b.id);
  });

  it('refuses to start on a state file that holds no id, or that cannot be written, in one line', async () => {
    const file = join(dir, 'server-id');
    await writeFile(file, '../../etc\n');
    await expect(resolveServerIdentity({ serverId: undefined, serverIdFile: file }, noLegacy))
      .rejects.toMatchObject({ name: 'StartupError', code: 'FNTS_ERR_START_STATE', message: `the server id file ${file} does not hold a server id` });
    // A file where the state folder should be: ENOTDIR even for root.
    await expect(resolveServerIdentity({ serverId: undefined, serverIdFile: join(file, 'server-id') }, noLegacy))
      .rejects.toMatchObject({ code: 'FNTS_ERR_START_STATE', hint: expect.stringContaining('FNTS_STATE_DIR') as string });
  });

  it('keeps the id in FNTS_STATE_DIR, else beside the SQLite file; none for :memory:', () => {
    const cfg = (env: Record<string, string>) => loadConfig({ FNTS_LOG_LEVEL: 'silent', ...env });
    expect(serverIdFile(cfg({ FNTS_DB: '/srv/a/fnts.db', FNTS_STATE_DIR: '/srv/state' }))).toBe('/srv/state/server-id');
    expect(serverIdFile(cfg({ FNTS_DB: '/srv/a/fnts.db' }))).toBe('/srv/a/fnts.db.server-id');
    expect(serverIdFile(cfg({ FNTS_DB: ':memory:' }))).toBeUndefined();
    expect(serverIdFile(cfg({ FNTS_DB: 'postgres://fnts@db/fnts' }))).toMatch(/\.fnts\/data\/server-id$/);
    expect(() => cfg({ FNTS_SERVER_ID: 'a/b' })).toThrow(/FNTS_SERVER_ID=a\/b must be/);
  });
});
