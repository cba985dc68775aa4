import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { compileKafkaOptions, parseKafkaSource } from '../src/streams/kafka/options.js';
import { type OptionsError } from '../src/streams/engine/options.js';

/** Kafka settings (server config only), kafka:// sources and the Kafka-only trigger options: no broker needed. */

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ FNTS_DB: ':memory:', ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('Kafka server settings', () => {
  it('default to plaintext, static membership and a 45 s session', () => {
    expect(loadConfig({ FNTS_DB: ':memory:' }).kafka).toEqual({
      securityProtocol: 'plaintext', sasl: undefined, sslCaLocation: undefined, sslCertificateLocation: undefined,
      sslKeyLocation: undefined, sslKeyPassword: undefined, clientId: 'fnts', sessionTimeoutMs: 45_000, staticMembership: true,
    });
  });

  it('take SASL over TLS with a CA file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fnts-kafka-cfg-'));
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
    const k = loadConfig({
      FNTS_DB: ':memory:', FNTS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', FNTS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      FNTS_KAFKA_SASL_USERNAME: 'fnts', FNTS_KAFKA_SASL_PASSWORD: 'secret', FNTS_KAFKA_SSL_CA_LOCATION: ca,
      FNTS_KAFKA_SESSION_TIMEOUT_MS: '10000', FNTS_KAFKA_STATIC_MEMBERSHIP: 'false',
    }).kafka;
    expect(k).toMatchObject({
      securityProtocol: 'sasl_ssl', sasl: { mechanism: 'SCRAM-SHA-512', username: 'fnts', password: 'secret' },
      sslCaLocation: ca, sessionTimeoutMs: 10_000, staticMembership: false,
    });
  });

  it('collect every problem at once', () => {
    expect(problemsOf({ FNTS_KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', FNTS_KAFKA_SASL_MECHANISM: 'GSSAPI' })).toEqual([
      'FNTS_KAFKA_SASL_MECHANISM=GSSAPI must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512',
      'FNTS_KAFKA_SASL_USERNAME is required with FNTS_KAFKA_SECURITY_PROTOCOL=sasl_plaintext',
      'FNTS_KAFKA_SASL_PASSWORD is required with FNTS_KAFKA_SECURITY_PROTOCOL=sasl_plaintext',
    ]);
    expect(problemsOf({ FNTS_KAFKA_SECURITY_PROTOCOL: 'tls' })).toEqual(['FNTS_KAFKA_SECURITY_PROTOCOL=tls must be one of plaintext, ssl, sasl_plaintext, sasl_ssl']);
    expect(problemsOf({ FNTS_KAFKA_SASL_USERNAME: 'u' })).toEqual(['FNTS_KAFKA_SASL_* settings need FNTS_KAFKA_SECURITY_PROTOCOL=sasl_plaintext or sasl_ssl']);
    expect(problemsOf({ FNTS_KAFKA_SECURITY_PROTOCOL: 'ssl', FNTS_KAFKA_SSL_CA_LOCATION: '/nonexistent/ca.pem' }))
      .toEqual(['FNTS_KAFKA_SSL_CA_LOCATION=/nonexistent/ca.pem is not a readable file']);
    expect(problemsOf({ FNTS_KAFKA_SESSION_TIMEOUT_MS: '10' })).toEqual(['FNTS_KAFKA_SESSION_TIMEOUT_MS="10" must be an integer between 1000 and 3600000']);
  });
});

describe('kafka:// sources', () => {
  it('name the brokers and the topic', () => {
    expect(parseKafkaSource('kafka://b1:9092,b2.example.com:9093,[::1]:9094/orders.v1')).toEqual({
      brokers: ['b1:9092', 'b2.example.com:9093', '[::1]:9094'], topic: 'orders.v1',
    });
  });

  it('explain what is wrong and the expected form', () => {
    for (const [source, problem] of [
      ['kafka://', 'at least one broker'],
      ['kafka:///t', 'at least one broker'],
      ['kafka://b1:9092,/t', 'needs a port'],
      ['kafka://b1:0/t', 'invalid port'],
      ['kafka://b_1:9092/t', 'invalid host'],
      ['kafka://b1:9092/t?security=ssl', 'query strings'],
      ['kafka://b1:9092/..', 'not a valid Kafka topic name'],
      ['kafka://b1:9092/' + 'x'.repeat(250), 'not a valid Kafka topic name'],
    ] as const) {
      expect(() => parseKafkaSource(source), source).toThrow(problem);
      expect(() => parseKafkaSource(source), source).toThrow('expected kafka://host1:9092,host2:9092/topic');
    }
  });
});

describe('Kafka trigger options', () => {
  const defaults = { groupId: 'fnts-T1', deadLetterTopic: 'orders.dlq' };

  it('default the group to fnts-<trigger id> and keep it across updates unless set', () => {
    const created = compileKafkaOptions({}, undefined, defaults);
    expect(created).toEqual({ group_id: 'fnts-T1', dead_letter_topic: 'orders.dlq', max_buffered_bytes: 4 * 1024 * 1024, drain_timeout_ms: 10_000 });
    const updated = compileKafkaOptions({ drain_timeout_ms: 500 }, created, { groupId: 'fnts-other', deadLetterTopic: 'x.dlq' });
    expect(updated).toEqual({ ...created, drain_timeout_ms: 500 });
    expect(compileKafkaOptions({ group_id: 'shared-consumers' }, created, defaults).group_id).toBe('shared-consumers');
  });

  it('reject bad values, all of them at once', () => {
    try {
      compileKafkaOptions({ group_id: '', dead_letter_topic: 'a/b', max_buffered_bytes: 10, drain_timeout_ms: 1.5 }, undefined, defaults);
      expect.unreachable();
    } catch (err) {
      expect((err as OptionsError).problems).toHaveLength(4);
    }
  });
});
