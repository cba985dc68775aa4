// The floor for any HTTP front: a bare node:http server that forwards the body to a container's socket with undici
// and sends the answer back, with no routing, store, pool or metrics. fnts's /invoke is measured against it too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';

export interface BareProxy {
  url: string;
  close(): Promise<void>;
}

export async function startBareProxy(socketPath: string): Promise<BareProxy> {
  const upstream = new Client('http://localhost', { socketPath, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      upstream
        .request({
          path: '/call',
          method: 'POST',
          headers: {
            'content-type': req.headers['content-type'] ?? 'application/json',
            'fn-call-id': `bare-${++seq}`,
            'fn-deadline': new Date(Date.now() + 30_000).toISOString(),
          },
          body: Buffer.concat(chunks),
        })
        .then(async (r) => {
          const body = Buffer.from(await r.body.arrayBuffer());
          res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'application/json') });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await upstream.close();
    },
  };
}
