import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

/** Shared helpers for the API tests: an in-memory server per test, driven through `inject` (no port). */

export type Json = Record<string, unknown>;
export interface AppJson {
  id: string;
  name: string;
  config?: Record<string, string>;
  annotations?: Json;
  syslog_url?: string;
  shape?: string;
  created_at: string;
  updated_at: string;
}
export interface FnJson {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  config: Record<string, string>;
  annotations?: Json;
  shape?: string;
  created_at: string;
  updated_at: string;
}
export interface ListJson<T> {
  items: T[];
  next_cursor?: string;
}
export interface ErrorJson {
  message: string;
  code: string;
}

export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const UNKNOWN_ID = '01ABCDEFGHJKMNPQRSTVWXYZ00';
export const INVOKE_ENDPOINT = 'fnproject.io/fn/invokeEndpoint';

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

export function newApiServer(env: Record<string, string> = {}): Promise<FastifyInstance> {
  return buildApp({ config: loadConfig({ FNTS_DB: ':memory:', FNTS_LOG_LEVEL: 'silent', ...env }) });
}

/** Gives every test of the calling file a fresh in-memory server, closed after it. */
export function useApiServer(): void {
  beforeEach(async () => {
    current = await newApiServer();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/** Replaces the current test's server with one built from other settings. */
export async function restartApiServer(env: Record<string, string>): Promise<void> {
  await current?.close();
  current = await newApiServer(env);
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

/** Asserts an API error: status, exact message, a stable FNTS code, JSON content type. */
export function expectError(res: LightMyRequestResponse, status: number, message: string | RegExp): ErrorJson {
  const body = res.json<ErrorJson>();
  expect({ status: res.statusCode, message: body.message }).toEqual({
    status,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });
  expect(body.code).toMatch(/^FNTS_ERR_[A-Z_]+$/);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return body;
}

export async function createApp(body: Json): Promise<AppJson> {
  const res = await req('POST', '/v2/apps', body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<AppJson>();
}

export async function createFn(body: Json): Promise<FnJson> {
  const res = await req('POST', '/v2/fns', body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<FnJson>();
}

export async function getApp(id: string): Promise<AppJson> {
  const res = await req('GET', `/v2/apps/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<AppJson>();
}

export async function getFn(id: string): Promise<FnJson> {
  const res = await req('GET', `/v2/fns/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<FnJson>();
}
