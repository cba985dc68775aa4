import type { SwaggerOptions, SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';

/** The operations OpenAPI 3.0 knows; fastify's `all` also routes others (QUERY, PROPFIND, …), which it does not. */
const OPENAPI_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
/** Methods without defined request-body semantics (RFC 7231), which OpenAPI 3.0 gives no requestBody. */
const NO_BODY_METHODS = new Set(['get', 'head', 'delete', 'trace']);
/** The part of an operation the document's last pass changes. */
type Operation = { requestBody?: { required?: boolean; content: Record<string, unknown> }; [field: string]: unknown };
/** The other fields a path item may hold. */
const PATH_FIELDS = new Set(['$ref', 'summary', 'description', 'servers', 'parameters']);

/**
 * Route config that documents a route with `schema` (and, for a wildcard, `url`) while fastify validates only what
 * the route itself declares: for routes whose bodies are not JSON (a call's bytes, NDJSON, Prometheus text).
 */
export function documentedAs(schema: FastifySchema, url?: string): { swaggerTransform: SwaggerTransform } {
  return { swaggerTransform: (route) => ({ schema, url: url ?? route.url }) };
}

/** The @fastify/swagger options: an OpenAPI 3.0 document generated from the route schemas of @fnts/api. */
export function openApiOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'fnts API (Fn API v2)',
        version,
        description: 'Fn API v2 (apps, fns, triggers, calls) and the fnts extensions: embedded streams and stream triggers. ' +
          'Every error answers with `{"message", "code"}`; the codes are stable (FNTS_ERR_*).',
      },
      tags: [
        { name: 'apps' }, { name: 'fns' }, { name: 'triggers' }, { name: 'streams' }, { name: 'calls' }, { name: 'meta' },
      ],
    },
    transformObject: (doc) => {
      if (!('openapiObject' in doc)) return doc.swaggerObject;
      for (const path of Object.values(doc.openapiObject.paths ?? {})) {
        const item = (path ?? {}) as Record<string, Operation>;
        for (const method of Object.keys(item)) {
          if (PATH_FIELDS.has(method)) continue;
          if (!OPENAPI_METHODS.has(method)) {
            delete item[method];
            continue;
          }
          // The methods of one route share one operation object: each gets its own before it changes.
          const { requestBody, ...op } = item[method] as Operation;
          if (requestBody && !NO_BODY_METHODS.has(method)) {
            // A call's input may be empty: bytes of any type are never required.
            op.requestBody = '*/*' in requestBody.content ? { ...requestBody, required: false } : requestBody;
          }
          item[method] = op;
        }
      }
      return doc.openapiObject;
    },
  };
}
