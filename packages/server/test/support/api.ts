import type { AppJson, ErrorBody, FnJson, List, TriggerJson } from '@fnts/api';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, expect, inject } from 'vitest';
import { createDatabase } from '../../../../test/support/postgres.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

/**
 * Shared helpers for the server tests: in-memory servers driven through `inject` (no port), the JSON shapes of
 * Fn API v2 (from @fnts/api), and assertions for its error bodies. The container tests (support/fixtures.ts) build on the same ones.
 */

export type Json = Record<string, unknown>;
export type { AppJson, FnJson, TriggerJson };
export type ListJson<T> = List<T>;
export type ErrorJson = ErrorBody;

export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const UNKNOWN_ID = '01ABCDEFGHJKMNPQRSTVWXYZ00';
// Fn's annotation names, spelled out here rather than imported: the tests hold the server to Fn's names.
export const INVOKE_ENDPOINT = 'fnproject.io/fn/invokeEndpoint';
export const HTTP_ENDPOINT = 'fnproject.io/trigger/httpEndpoint';

/** Fn's validation messages (CONTRACT §4.3), exact. */
export const MSG = {
  annotationKey: 'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
  annotationKeyLength: 'Invalid annotation key length, annotation keys may not be larger than 128 bytes',
  annotationValue: 'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays',
  annotationValueLength:
    'Invalid annotation value length, annotation values may not be larger than 512 bytes when serialized as JSON',
  annotationCount: 'Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (100)',
  timeout: 'timeout value is out of range, must be between 0 and 300',
  idleTimeout: 'idle_timeout value is out of range, must be between 0 and 3600',
  memory: 'memory value is out of range. It should be between 0 and 8192',
} as const;

let current: FastifyInstance | undefined;

/**
 * A server on a throwaway in-memory store, quiet; `env` adds or overrides FNTS_* settings. FNTS_TEST_STORE=postgres
 * runs the same tests on a fresh database of the run's PostgreSQL cluster instead (the API on the shared store).
 */
export async function buildTestServer(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const db = process.env.FNTS_TEST_STORE === 'postgres' ? await createDatabase(inject('postgresUrl')) : ':memory:';
  // Warm-on-deploy and stem cells are off unless a test turns them on: a server here starts no container a test did not
  // ask for, and each fn's containers carry its labels (a claimed stem cell carries only the server's).
  const quiet = { FNTS_WARM_ON_DEPLOY: 'false', FNTS_STEM_CELLS: '0' };
  return buildApp({ config: loadConfig({ FNTS_DB: db, FNTS_LOG_LEVEL: 'silent', ...quiet, ...env }) });
}

/** Gives every test of the calling file a fresh in-memory server, closed after it. */
export function useApiServer(): void {
  beforeEach(async () => {
    current = await buildTestServer();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/** Replaces the current test's server with one built from other settings. */
export async function restartApiServer(env: Record<string, string>): Promise<void> {
  await current?.close();
  current = await buildTestServer(env);
}

export function req(
  method: InjectOptions['method'],
  url: string,
  payload?: unknown,
  headers?: Record<string, string>,
): Promise<LightMyRequestResponse> {
  if (!current) throw new Error('no API server: call useApiServer() in the test file');
  return current.inject({
    method,
    url,
    ...(payload !== undefined ? { payload: payload as InjectOptions['payload'] } : {}),
    ...(headers ? { headers } : {}),
  });
}

/**
 * Asserts an API error: status, exact message (or a pattern), a stable FNTS code (exactly `code` when given),
 * JSON content type. Returns the body.
 */
export function expectError(res: LightMyRequestResponse, status: number, message: string | RegExp, code?: string): ErrorJson {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<ErrorJson>();
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  expect(body.code).toMatch(/^FNTS_ERR_[A-Z_]+$/);
  if (code !== undefined) expect(body.code).toBe(code);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return body;
}

/** POSTs a resource to `server` and returns it, failing the test unless the answer is 200. */
export async function createOn<T>(server: FastifyInstance, url: string, body: Json): Promise<T> {
  const res = await server.inject({ method: 'POST', url, payload: body });
  expect(res.statusCode, `POST ${url}: ${res.body}`).toBe(200);
  return res.json<T>();
}

function server(): FastifyInstance {
  if (!current) throw new Error('no API server: call useApiServer() in the test file');
  return current;
}

export const createApp = (body: Json): Promise<AppJson> => createOn<AppJson>(server(), '/v2/apps', body);
export const createFn = (body: Json): Promise<FnJson> => createOn<FnJson>(server(), '/v2/fns', body);
export const createTrigger = (body: Json): Promise<TriggerJson> => createOn<TriggerJson>(server(), '/v2/triggers', body);

async function getOk<T>(url: string): Promise<T> {
  const res = await req('GET', url);
  expect(res.statusCode, `GET ${url}: ${res.body}`).toBe(200);
  return res.json<T>();
}

export const getApp = (id: string): Promise<AppJson> => getOk<AppJson>(`/v2/apps/${id}`);
export const getFn = (id: string): Promise<FnJson> => getOk<FnJson>(`/v2/fns/${id}`);
export const getTrigger = (id: string): Promise<TriggerJson> => getOk<TriggerJson>(`/v2/triggers/${id}`);
