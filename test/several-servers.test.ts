import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, docker, REPO_ROOT, runCli, runId, startServerProcess, tempDir, TEST_LABEL, type ServerProcess } from './support/harness.js';
import { startNginx, type NginxProcess } from './support/nginx.js';
import { createDatabase } from './support/postgres.js';

/**
 * Issue 14's routing acceptance: two real fnts servers behind Debian's nginx running deploy/nginx/fnts.conf, sharing
 * only the Docker engine and the socket-dir root.
 * One function's calls all land on one server (one cold start); kill -9 of that server moves them to the other with
 * no more failures than calls in flight; restarted, it reaps only its own leftovers and takes its functions back.
 *
 * Both servers share one PostgreSQL database (a fresh one on the run's throwaway cluster): the app, function and
 * trigger are deployed through each (created through the first, updated through the second), and each server keeps
 * its own identity in its own state dir.
 */
let sharedDb = '';

interface Member {
  name: 'a' | 'b';
  dir: string;
  port: number;
  id: string;
  process: ServerProcess;
}

/** This function's counters in a server's /metrics, summed over outcomes (0 when it has none). */
async function fnCounters(url: string): Promise<{ calls: number; coldStarts: number }> {
  const res = await request(`${url}/metrics`);
  const text = await res.body.text();
  const sum = (metric: string) => text.split('\n')
    .filter((l) => l.startsWith(`${metric}{`) && l.includes('app_name="shop"') && l.includes('fn_name="items"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { calls: sum('fnts_calls_total'), coldStarts: sum('fnts_cold_starts_total') };
}

/** One call through the trigger, as a client would make it: a POST, so nginx never sends it twice. */
async function call(base: string): Promise<number> {
  try {
    const res = await request(`${base}/t/shop/items`, { method: 'POST', body: '{"name":"pen"}', headers: { 'content-type': 'application/json' } });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

async function containerIdsOf(serverId: string, label: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${label}`, `fnts.server=${serverId}`] } });
  return list.map((c) => c.Id).sort();
}

describe('two fnts servers behind nginx with function affinity', () => {
  const label = runId();
  let dir: string;
  let nginx: NginxProcess;
  const members: Member[] = [];
  let owner: Member;
  let other: Member;

  const start = async (name: 'a' | 'b', port = 0): Promise<ServerProcess> => {
    const serverDir = join(dir, name);
    await mkdir(serverDir, { recursive: true });
    return startServerProcess({
      dir: serverDir, label, port,
      // One socket-dir root for both, as two servers on one host with default settings would have: each keeps to
      // its own <root>/<server id>.
      env: { FNTS_DB: sharedDb, FNTS_STATE_DIR: serverDir, FNTS_IOFS_DIR: join(dir, 'iofs'), FNTS_LOG_LEVEL: 'warn' },
    });
  };

  beforeAll(async () => {
    dir = await tempDir('fnts-several-');
    sharedDb = await createDatabase(inject('postgresUrl'));
    for (const name of ['a', 'b'] as const) {
      const proc = await start(name);
      const port = Number(new URL(proc.url).port);
      const id = (await readFile(join(dir, name, 'server-id'), 'utf8')).trim();
      members.push({ name, dir: join(dir, name), port, id, process: proc });
    }
    // The same app, function and HTTP trigger on both (with one shared database: created, then updated).
    await cp(join(REPO_ROOT, 'examples/http-trigger'), join(dir, 'items'), { recursive: true });
    for (const m of members) {
      const deploy = await runCli(['deploy', '--app', 'shop', '--create-app', '--no-bump'], {
        cwd: join(dir, 'items'), env: { FNTS_API_URL: m.process.url, FNTS_IMAGE_LABELS: `${TEST_LABEL}=${label}` },
      });
      expect(deploy.code, deploy.stderr).toBe(0);
    }
    nginx = await startNginx(members.map((m) => `127.0.0.1:${m.port}`));
  }, 180_000);

  afterAll(async () => {
    await nginx?.stop();
    for (const m of members) await m.process.stop();
    await cleanup(label, dir);
  });

  it('serves 200 calls of one function on one server, with one cold start', async () => {
    expect(members[0]?.id).not.toBe(members[1]?.id);
    for (let i = 0; i < 200; i++) expect(await call(nginx.url)).toBe(201);
    const counts = await Promise.all(members.map((m) => fnCounters(m.process.url)));
    const served = counts.findIndex((c) => c.calls === 200);
    expect(served, JSON.stringify(counts)).toBeGreaterThanOrEqual(0);
    owner = members[served] as Member;
    other = members[1 - served] as Member;
    expect(counts[served]).toEqual({ calls: 200, coldStarts: 1 });
    expect(counts[1 - served]).toEqual({ calls: 0, coldStarts: 0 });
    // nginx's own view agrees: one upstream, one routing key.
    const log = (await nginx.accessLog()).filter((l) => l.key === 'shop/items');
    expect(log).toHaveLength(200);
    expect(new Set(log.map((l) => l.upstream))).toEqual(new Set([`127.0.0.1:${owner.port}`]));
  });

  it('moves the function to the other server when its server is killed -9, failing no more calls than were in flight', async () => {
    // The other server gets a hot container of its own (called directly), which the owner's restart must not touch.
    expect(await call(other.process.url)).toBe(201);
    const otherBefore = await fnCounters(other.process.url);

    const workers = 4;
    const beforeDeath: number[] = [];
    const afterDeath: number[] = [];
    let dead = false;
    let done = 0;
    let signalKill: () => void = () => undefined;
    const killAt = new Promise<void>((resolve) => (signalKill = resolve));
    // Four clients calling back to back, so at most four calls are in flight when the owner dies. Bounded: each
    // stops after 60 calls begun once the owner is gone, or after 400 in all.
    const loops = Array.from({ length: workers }, async () => {
      let mineAfter = 0;
      for (let i = 0; i < 400 && mineAfter < 60; i++) {
        const startedAfterDeath = dead;
        const status = await call(nginx.url);
        (startedAfterDeath ? afterDeath : beforeDeath).push(status);
        if (startedAfterDeath) mineAfter += 1;
        if (++done === 40) signalKill();
      }
    });
    await killAt;
    const exited = new Promise((resolve) => owner.process.child.once('exit', resolve));
    owner.process.child.kill('SIGKILL');
    await exited;
    dead = true;
    await Promise.all(loops);

    // Only calls already sent to the owner when it died may fail (nginx does not re-send a POST), and only those.
    const failed = [...beforeDeath, ...afterDeath].filter((s) => s !== 201);
    expect(failed.length, `failed calls: ${JSON.stringify(failed)}`).toBeLessThanOrEqual(workers);
    expect(afterDeath.filter((s) => s !== 201), 'a call begun after the owner died failed').toEqual([]);
    expect(afterDeath.length).toBe(workers * 60);
    // Every call that did not fail was served by the other server, on the container it already had.
    const otherAfter = await fnCounters(other.process.url);
    expect(otherAfter.calls - otherBefore.calls).toBeGreaterThanOrEqual(afterDeath.length);
    expect(otherAfter.coldStarts).toBeLessThanOrEqual(otherBefore.coldStarts + workers - 1);
    // The killed server's containers outlive it: the restart must find them.
    expect((await containerIdsOf(owner.id, label)).length).toBeGreaterThan(0);
  });

  it('restarted, the killed server reaps only its own leftovers and its function comes back to it', async () => {
    const ownersLeft = await containerIdsOf(owner.id, label);
    const othersBefore = await containerIdsOf(other.id, label);
    expect(othersBefore.length).toBeGreaterThan(0);

    // Same state dir (so the same id) and the same port nginx knows.
    owner.process = await start(owner.name, owner.port);
    expect((await readFile(join(owner.dir, 'server-id'), 'utf8')).trim()).toBe(owner.id);
    const ownersNow = await containerIdsOf(owner.id, label);
    expect(ownersNow.filter((id) => ownersLeft.includes(id))).toEqual([]);
    const othersNow = await docker.listContainers({ filters: { label: [`${TEST_LABEL}=${label}`, `fnts.server=${other.id}`] } });
    expect(othersNow.map((c) => c.Id).sort()).toEqual(othersBefore);
    // The other server's socket dirs are untouched, and its hot containers still answer through them.
    expect((await readdir(join(dir, 'iofs', other.id))).length).toBeGreaterThan(0);
    const otherCold = (await fnCounters(other.process.url)).coldStarts;
    expect(await call(other.process.url)).toBe(201);
    expect((await fnCounters(other.process.url)).coldStarts).toBe(otherCold);

    // nginx retries a failed server after fail_timeout (5 s in the config): consistent hashing sends the function
    // back to it then, and no call fails meanwhile. Bounded: at most 30 s of calls.
    const deadline = Date.now() + 30_000;
    let back = false;
    while (!back && Date.now() < deadline) {
      expect(await call(nginx.url)).toBe(201);
      back = (await fnCounters(owner.process.url)).calls > 0;
      // Between calls while waiting for nginx's fail_timeout to pass: pacing, not synchronisation.
      if (!back) await sleep(100);
    }
    expect(back, 'the function never came back to its restarted server').toBe(true);
    const ownerBefore = await fnCounters(owner.process.url);
    const otherBefore = await fnCounters(other.process.url);
    for (let i = 0; i < 20; i++) expect(await call(nginx.url)).toBe(201);
    expect((await fnCounters(owner.process.url)).calls - ownerBefore.calls).toBe(20);
    expect((await fnCounters(other.process.url)).calls).toBe(otherBefore.calls);
    expect((await fnCounters(owner.process.url)).coldStarts).toBe(1);
  });
});
