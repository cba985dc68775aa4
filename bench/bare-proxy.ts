// The floor for any HTTP front: a bare node:http server that forwards the body to a container's socket with undici
// and sends the answer back, with no routing, store, pool or metrics. fnts's /invoke is measured against it.
// It runs as its own process, as the server does (`node bench/dist/bare-proxy.js <socket>...`): each client
// connection is given the next socket in turn, so N connections over N sockets mirror the direct clients.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';

const LISTENING = /bare proxy listening on (http:\/\/\S+)/;

function serve(socketPaths: readonly string[]): Server {
  const upstreams = socketPaths.map((socketPath) =>
    new Client('http://localhost', { socketPath, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 }));
  const byConnection = new WeakMap<Socket, Client>();
  let next = 0;
  let seq = 0;
  let failures = 0;
  const server = createServer((req, res) => {
    const upstream = byConnection.get(req.socket) as Client;
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
          if (failures++ < 3) process.stderr.write(`bare proxy: the call to ${socketPaths[upstreams.indexOf(upstream)] ?? '?'} failed: ${String(err)}\n`);
          res.writeHead(502);
          res.end(String(err));
        });
    });
  });
  server.on('connection', (socket: Socket) => {
    byConnection.set(socket, upstreams[next++ % upstreams.length] as Client);
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

export interface BareProxy {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts the proxy as its own process over `socketPaths`; resolves once it listens on a loopback port. */
export function startBareProxy(socketPaths: readonly string[]): Promise<BareProxy> {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...socketPaths], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = LISTENING.exec(out);
      if (m?.[1]) ok({ url: m[1], pid: child.pid as number, close: async () => { child.kill('SIGTERM'); await exited; } });
    });
    child.once('exit', (code) => fail(new Error(`the bare proxy exited (${code}) before listening: ${out}`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sockets = process.argv.slice(2);
  if (sockets.length === 0) throw new Error('usage: bare-proxy.js <socket>...');
  const server = serve(sockets);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`bare proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
}
