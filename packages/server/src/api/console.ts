import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from '../errors.js';

/** The web console's files, served from memory at `/ui` (packages/console builds them). */
interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Hashed names never change content: cached for a year; index.html is checked every time. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The page may load only its own files and talk only to this server: a function's output shown on it can never
 * run as script or send anything elsewhere.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Reads the built console once: a flat folder (index.html plus content-hashed assets). Only names found here are
 * ever served, so no request path reaches the file system. Undefined when the console was not built.
 */
export function loadConsoleAssets(dir: string): Map<string, Asset> | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const path = join(dir, name);
    const type = TYPES[extname(name)];
    if (type === undefined || !statSync(path).isFile()) continue;
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type, etag, immutable: name !== 'index.html' });
  }
  return assets.has('index.html') ? assets : undefined;
}

/** The console's own folder in @fnts/console, if that package is installed. */
export async function defaultConsoleDir(): Promise<string | undefined> {
  try {
    const { consoleAssetsDir } = await import('@fnts/console');
    return fileURLToPath(consoleAssetsDir);
  } catch {
    return undefined;
  }
}

/**
 * `GET /ui`: the web console. Its files are public like `/` (code, no data: the auth hook lets `/ui` through);
 * every number on it comes from the API, which needs the key the page asks for when keys are set.
 */
export function registerConsole(app: FastifyInstance, assets: Map<string, Asset> | undefined): void {
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/*', { schema: { hide: true } }, async (req, reply) => {
    if (!assets) throw errors.pathNotFound('the web console is not built: run npm run build');
    const name = (req.params as { '*': string })['*'] || 'index.html';
    const asset = assets.get(name);
    if (!asset) throw errors.pathNotFound(`Path not found: GET ${req.url.split('?')[0] ?? ''}`);
    reply
      .header('content-type', asset.type)
      .header('etag', asset.etag)
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  });
}
