import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { App, Fn, Trigger } from '../src/store/models.js';
import { SqliteDatastore } from '../src/store/sqlite.js';
import type { AppJson } from './support/api.js';

describe('SQLite store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fnts-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps apps, fns and triggers across closing and reopening the file', async () => {
    const path = join(dir, 'nested', 'fnts.db');
    const now = new Date().toISOString();
    const storedApp: App = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ00', name: 'persist', config: { A: 'b' }, annotations: { k: { v: [1] } },
      syslog_url: 'tcp://h:1', shape: 'GENERIC_X86', created_at: now, updated_at: now,
    };
    const storedFn: Fn = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ01', name: 'f', app_id: storedApp.id, image: 'i:1', memory: 256, timeout: 10,
      idle_timeout: 5, config: { C: 'd' }, annotations: {}, created_at: now, updated_at: now,
    };
    const storedTrigger: Trigger = {
      id: '01ABCDEFGHJKMNPQRSTVWXYZ02', name: 't', app_id: storedApp.id, fn_id: storedFn.id, type: 'http', source: '/hello',
      annotations: { a: 'b' }, created_at: now, updated_at: now,
    };
    const first = new SqliteDatastore(path);
    await first.insertApp(storedApp);
    await first.insertFn(storedFn);
    await first.insertTrigger(storedTrigger);
    await first.updateFn({ ...storedFn, timeout: 20 });
    await first.close();

    const second = new SqliteDatastore(path);
    try {
      expect(await second.getAppById(storedApp.id)).toEqual(storedApp);
      expect(await second.getAppByName('persist')).toEqual(storedApp);
      expect(await second.getFnById(storedFn.id)).toEqual({ ...storedFn, timeout: 20 });
      expect(await second.getFnByName(storedApp.id, 'f')).toEqual({ ...storedFn, timeout: 20 });
      expect(await second.getTriggerBySource(storedApp.id, 'http', '/hello')).toEqual(storedTrigger);
      expect((await second.listApps({ limit: 30 })).items).toEqual([storedApp]);
    } finally {
      await second.close();
    }
  });

  it('serves data written through the API after the server is rebuilt on the same file', async () => {
    const path = join(dir, 'api.db');
    const first = await buildApp({ config: loadConfig({ FNTS_DB: path, FNTS_LOG_LEVEL: 'silent' }) });
    const created = (await first.inject({ method: 'POST', url: '/v2/apps', payload: { name: 'kept', config: { A: 'b' } } })).json<AppJson>();
    await first.close();
    const second = await buildApp({ config: loadConfig({ FNTS_DB: path, FNTS_LOG_LEVEL: 'silent' }) });
    try {
      const res = await second.inject({ method: 'GET', url: `/v2/apps/${created.id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(created);
    } finally {
      await second.close();
    }
  });
});
