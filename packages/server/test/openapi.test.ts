import SwaggerParser from '@apidevtools/swagger-parser';
import { API_ERROR_CODES } from '@fnts/api';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_ID, expectError, req, useApiServer } from './support/api.js';

/** /v2/openapi.json, generated from @fnts/api's route schemas, fetched from a real server and checked. */

useApiServer();

interface Media {
  schema?: { type?: string; required?: string[]; properties?: Record<string, unknown> };
}
interface Operation {
  operationId?: string;
  tags?: string[];
  parameters?: { in: string; name: string }[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

async function fetchDocument(): Promise<Document> {
  const res = await req('GET', '/v2/openapi.json');
  expect(res.statusCode).toBe(200);
  return res.json<Document>();
}

function operations(doc: Document): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
}

describe('the OpenAPI document', () => {
  it('validates as OpenAPI 3.0 with swagger-parser', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    // validate() dereferences the object it is given; the copy keeps `doc` as served.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('describes every operation\'s success answer and its error answers with the error body', async () => {
    const doc = await fetchDocument();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    for (const { method, path, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith('2')), where).toBe(true);
      for (const [status, res] of Object.entries(op.responses)) {
        expect(res.description, `${where} ${status}`).not.toBe('Default Response');
        if (status.startsWith('2') && status !== '202' && status !== '204') {
          expect(Object.values(res.content ?? {})[0]?.schema, `${where} ${status}`).toBeDefined();
        }
        if (Number(status) >= 400) {
          const schema = res.content?.['application/json']?.schema;
          expect(schema?.required, `${where} ${status}`).toEqual(['message', 'code']);
        }
      }
      expect(statuses, where).toContain('500');
    }
  });

  it('names each operation once, and tags each', async () => {
    const ops = operations(await fetchDocument());
    const ids = ops.map((o) => o.op.operationId).filter((id): id is string => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    // The HTTP-trigger routes take every method; only they go without an operationId.
    expect(ops.filter((o) => !o.op.operationId).every((o) => o.path.startsWith('/t/'))).toBe(true);
    for (const { method, path, op } of ops) expect(op.tags?.length, `${method} ${path}`).toBe(1);
  });

  it('documents the HTTP-trigger wildcard as a source parameter, with the methods OpenAPI knows', async () => {
    const doc = await fetchDocument();
    expect(Object.keys(doc.paths).filter((p) => p.includes('*'))).toEqual([]);
    const item = doc.paths['/t/{app_name}/{source}'];
    expect(Object.keys(item ?? {}).sort()).toEqual(['delete', 'get', 'head', 'options', 'patch', 'post', 'put', 'trace']);
    expect(item?.post?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['path:app_name', 'path:source']);
    // A call's input is any bytes and may be empty; GET gets no request body at all.
    expect(item?.post?.requestBody).toMatchObject({ required: false, content: { '*/*': {} } });
    expect(item?.get?.requestBody).toBeUndefined();
    expect(doc.paths['/invoke/{fn_id}']?.post?.requestBody?.required).toBe(false);
  });

  it('documents the error codes the server really answers with, and only registered ones', async () => {
    const doc = await fetchDocument();
    const described = (path: string, method: string, status: string) =>
      doc.paths[path]?.[method]?.responses[status]?.description ?? '';
    const notFound = expectError(await req('GET', `/v2/apps/${UNKNOWN_ID}`), 404, 'App not found');
    expect(described('/v2/apps/{app_id}', 'get', '404')).toContain(notFound.code);
    expect((await req('POST', '/v2/streams', { name: 's' })).statusCode).toBe(200);
    const conflict = expectError(await req('POST', '/v2/streams', { name: 's' }), 409, 'Stream already exists');
    expect(described('/v2/streams', 'post', '409')).toContain(conflict.code);
    const codes = new Set<string>(API_ERROR_CODES);
    for (const { op } of operations(doc)) {
      for (const [status, res] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        for (const code of res.description.match(/FNTS_ERR_[A-Z_]+/g) ?? []) expect(codes.has(code), code).toBe(true);
      }
    }
  });

  it('documents stream trigger status with its partitions\' fields', async () => {
    const doc = await fetchDocument();
    const schema = doc.paths['/v2/triggers/{trigger_id}/status']?.get?.responses['200']?.content?.['application/json']?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(
      expect.arrayContaining(['trigger_id', 'fn_id', 'source', 'paused', 'partitions']),
    );
  });
});
