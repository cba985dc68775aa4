import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { KAFKA_CLIENT_PACKAGE, KafkaClientMissing, loadKafkaModule } from '../src/streams/kafka/confluent.js';
import { createOn, expectError, type AppJson, type FnJson, type ListJson, type TriggerJson } from './support/api.js';

/**
 * The Kafka client is an optional dependency: a server installed without it serves everything but kafka:// sources,
 * and refuses those with an error that says how to install it. The loader seam names a package that does not exist,
 * which is what an install without the optional dependency looks like to the loader.
 */

const MISSING_PACKAGE = 'fnts-test-no-such-kafka-client';

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverWithoutKafkaClient(): Promise<{ srv: FastifyInstance; appId: string; fnId: string }> {
  const srv = await buildApp({ config: loadConfig({ FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'silent' }), kafkaClientPackage: MISSING_PACKAGE });
  server = srv;
  const app = await createOn<AppJson>(srv, '/v2/apps', { name: 'kapp' });
  const fn = await createOn<FnJson>(srv, '/v2/fns', { app_id: app.id, name: 'f', image: 'fnts-test-no-such-image:0.0.0' });
  return { srv, appId: app.id, fnId: fn.id };
}

describe('the Kafka client package', () => {
  it('loads when installed, and a missing one is a KafkaClientMissing naming it', () => {
    expect(typeof loadKafkaModule().KafkaJS.Kafka).toBe('function');
    expect(() => loadKafkaModule(MISSING_PACKAGE)).toThrow(KafkaClientMissing);
    expect(() => loadKafkaModule(MISSING_PACKAGE)).toThrow(`the Kafka client (${MISSING_PACKAGE}) is not installed`);
  });

  it('installed but failing to load (its native library missing) is a KafkaClientMissing with the cause', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fnts-kafka-broken-'));
    try {
      const broken = join(dir, 'broken-client.cjs');
      await writeFile(broken, "throw new Error('librdkafka.so.1: cannot open shared object file');\n");
      expect(() => loadKafkaModule(broken)).toThrow(KafkaClientMissing);
      expect(() => loadKafkaModule(broken)).toThrow(`the Kafka client (${broken}) is installed but does not load (librdkafka.so.1: cannot open shared object file)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a server installed without the Kafka client', () => {
  it('refuses a kafka:// trigger with 501 FNTS_ERR_KAFKA_CLIENT_MISSING saying how to install it, and stores nothing', async () => {
    const { srv, appId, fnId } = await serverWithoutKafkaClient();
    const res = await srv.inject({
      method: 'POST', url: '/v2/triggers',
      payload: { app_id: appId, fn_id: fnId, name: 'k', type: 'stream', source: 'kafka://127.0.0.1:9/orders' },
    });
    const body = expectError(res, 501, /is not installed on this machine, so this server cannot read kafka:\/\/ sources/, 'FNTS_ERR_KAFKA_CLIENT_MISSING');
    expect(body.message).toContain(`npm install ${KAFKA_CLIENT_PACKAGE}`);
    const list = await srv.inject({ method: 'GET', url: `/v2/triggers?app_id=${appId}` });
    expect(list.json<ListJson<TriggerJson>>().items).toEqual([]);
  });

  it('still serves embedded streams and their triggers', async () => {
    const { srv, appId, fnId } = await serverWithoutKafkaClient();
    await createOn(srv, '/v2/streams', { name: 'orders', partitions: 1 });
    const trigger = await createOn<TriggerJson>(srv, '/v2/triggers', { app_id: appId, fn_id: fnId, name: 'e', type: 'stream', source: 'orders' });
    expect(trigger.source).toBe('orders');
  });
});
