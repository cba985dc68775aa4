// The CLI's HTTP client (src/http-request.ts) against a real node:http server on loopback: every way an answer can
// be framed, a HEAD, a body read at the caller's pace, an abort mid-body, and every way a connection can fail.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../src/http-request.js';

const servers: Array<Server | ReturnType<typeof createNetServer>> = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A node:http server on a random loopback port; answers what `handle` writes. */
async function serve(handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  server.on('connection', (s) => sockets.add(s));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw TCP server that reads the request and answers `raw` bytes, or nothing. */
async function serveRaw(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => onRequest(socket));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('request', () => {
  it('sends the method, path, query, headers and body, and reads a Content-Length answer with its headers', async () => {
    const url = await serve((req, body, res) => {
      res.setHeader('x-seen', `${req.method} ${req.url} ${req.headers['content-type']} ${req.headers['content-length']} ${req.headers.host}`);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ echo: body.toString() }));
    });
    const res = await request(`${url}/v2/apps?per_page=5`, { method: 'POST', body: 'héllo', headers: { 'Content-Type': 'text/plain' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-seen']).toBe(`POST /v2/apps?per_page=5 text/plain 6 ${new URL(url).host}`);
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(JSON.parse(await res.body.text())).toEqual({ echo: 'héllo' });
  });

  it('reads a chunked answer, and one that ends with the connection', async () => {
    const chunked = await serve((_req, _body, res) => {
      res.write('one,');
      setTimeout(() => res.end('two'), 20);
    });
    expect(await (await request(chunked, { method: 'GET' })).body.text()).toBe('one,two');

    const closeDelimited = await serveRaw((socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nno such thing'));
    const res = await request(closeDelimited, { method: 'GET' });
    expect(res.statusCode).toBe(404);
    expect(await res.body.text()).toBe('no such thing');
  });

  it('closes the connection once the answer is in, even when the server would keep it open', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const url = await serveRaw((socket) => {
      closed = once(socket, 'close');
      // Keep-alive in spite of the request's `connection: close`; the server never ends its side.
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    const res = await request(url, { method: 'GET' });
    expect(await res.body.text()).toBe('ok');
    await closed;
  });

  it('reads the answer to HEAD without waiting for the body it announces', async () => {
    const url = await serve((_req, _body, res) => {
      res.setHeader('content-length', '1000');
      res.end();
    });
    const res = await request(url, { method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('1000');
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
  });

  it('hands a large body over at the reader\'s pace, complete', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 'x');
    const url = await serve((_req, _body, res) => res.end(big));
    const res = await request(url, { method: 'GET' });
    let total = 0;
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total < 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(total).toBe(big.length);
  });

  it('aborts before the answer with an AbortError, and mid-body by failing the body', async () => {
    const url = await serve((_req, _body, res) => res.write('first line\n')); // and never ends
    const early = new AbortController();
    const pending = request(`${url}/slow`, { method: 'GET', signal: early.signal });
    const res = await pending;
    const text = res.body.text();
    early.abort();
    await expect(text).rejects.toMatchObject({ name: 'AbortError' });

    const before = new AbortController();
    before.abort();
    await expect(request(url, { method: 'GET', signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });

    const silent = await serveRaw(() => undefined); // reads the request, never answers
    const waiting = new AbortController();
    const never = request(silent, { method: 'GET', signal: waiting.signal });
    setTimeout(() => waiting.abort(), 20);
    await expect(never).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails with a code when nothing listens, when the server hangs up without answering, and when the answer is not HTTP', async () => {
    const closed = await serveRaw(() => undefined);
    const port = new URL(closed).port;
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(request(`http://127.0.0.1:${port}/`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const hangUp = await serveRaw((socket) => socket.end());
    await expect(request(hangUp, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNRESET' });

    const garbage = await serveRaw((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await expect(request(garbage, { method: 'GET' })).rejects.toMatchObject({ code: 'HPE_INVALID' });

    const cut = await serveRaw((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part'));
    const res = await request(cut, { method: 'GET' });
    await expect(res.body.text()).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('refuses a header with a line break (it would start another header on the wire) and a scheme it does not speak', async () => {
    const url = await serve((_req, _body, res) => res.end('should not be reached'));
    await expect(request(url, { method: 'GET', headers: { authorization: 'Bearer k\r\nx-admin: 1' } })).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
    await expect(request('ftp://127.0.0.1/', { method: 'GET' })).rejects.toMatchObject({ code: 'ERR_INVALID_PROTOCOL' });
  });
});
