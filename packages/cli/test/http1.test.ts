// The CLI's HTTP/1.1 client (src/http1.ts, behind src/http-request.ts) against real servers on loopback: node:http for
// the framings a server may choose, and a raw node:net server for what node:http would never send.
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../src/http-request.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const httpServer = (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>) => listen(createHttpServer(handler));

/** A server that answers every connection with `answer` (bytes), after reading the request's head. */
function rawServer(answer: (socket: Socket) => void): Promise<string> {
  return listen(createNetServer((socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) answer(socket);
    });
    socket.on('error', () => undefined);
  }));
}

describe('the CLI HTTP client', () => {
  it('sends the method, path, query, headers and body, and reads a Content-Length answer', async () => {
    let seen: { method?: string; url?: string; auth?: string; type?: string; length?: string; body?: string } = {};
    const url = await httpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => void (body += d.toString()));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], length: req.headers['content-length'], body };
        res.writeHead(201, { 'content-type': 'application/json', 'x-twice': ['a', 'b'] }).end('{"ok":true}');
      });
    });
    const res = await request(`${url}/v2/apps?per_page=5&cursor=a%2Fb`, { method: 'POST', body: '{"name":"é"}', headers: { authorization: 'Bearer k', 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-twice']).toEqual(['a', 'b']);
    expect(await res.body.text()).toBe('{"ok":true}');
    expect(seen).toEqual({ method: 'POST', url: '/v2/apps?per_page=5&cursor=a%2Fb', auth: 'Bearer k', type: 'application/json', length: '13', body: '{"name":"é"}' });
  });

  it('reads a chunked answer as its chunks arrive, and a large one whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
    let sendSecond = () => undefined as void;
    const url = await httpServer((req, res) => {
      if (req.url === '/big') return void res.end(big);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"line":1}\n');
      // The second line only once the client has the first: the body streams, it is not read to its end first.
      sendSecond = () => void res.end('{"line":2}\n');
    });
    const streamed = await request(`${url}/logs`, { method: 'GET' });
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const lines: string[] = [];
    for await (const chunk of streamed.body) {
      lines.push(String(chunk));
      if (lines.length === 1) sendSecond();
    }
    expect(lines.join('')).toBe('{"line":1}\n{"line":2}\n');
    const whole = await request(`${url}/big`, { method: 'GET' });
    expect(Buffer.from(await whole.body.arrayBuffer()).equals(big)).toBe(true);
  });

  it('answers with no body for HEAD, 204 and 304, and skips an interim 100 Continue', async () => {
    const url = await httpServer((req, res) => {
      if (req.url === '/continue') {
        res.writeContinue();
        return void res.end('after continue');
      }
      res.writeHead(req.url === '/304' ? 304 : req.method === 'HEAD' ? 200 : 204, { 'content-length': req.method === 'HEAD' ? '99' : '0' }).end();
    });
    for (const [method, path, status] of [['HEAD', '/', 200], ['DELETE', '/', 204], ['GET', '/304', 304]] as const) {
      const res = await request(`${url}${path}`, { method });
      expect(res.statusCode).toBe(status);
      expect(await res.body.text()).toBe('');
    }
    const continued = await request(`${url}/continue`, { method: 'GET' });
    expect(continued.statusCode).toBe(200);
    expect(await continued.body.text()).toBe('after continue');
  });

  it('reads an answer framed by the end of the connection, with chunk extensions and trailers', async () => {
    const closeFramed = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
    expect(await (await request(`${closeFramed}/`, { method: 'GET' })).body.text()).toBe('until the end');
    const chunked = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel');
      setImmediate(() => s.end('lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'));
    });
    expect(await (await request(`${chunked}/`, { method: 'GET' })).body.text()).toBe('hello world');
  });

  it('fails the body (UND_ERR_SOCKET) when the connection ends early, and says what a bad answer is', async () => {
    const cut = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'));
    const res = await request(`${cut}/`, { method: 'GET' });
    await expect(res.body.text()).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    const garbage = await rawServer((s) => s.end('SMTP ready\r\n\r\n'));
    await expect(request(`${garbage}/`, { method: 'GET' })).rejects.toMatchObject({ code: 'HPE_INVALID' });
    const silent = await rawServer((s) => s.end());
    await expect(request(`${silent}/`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('reports a refused connection by its code, refuses CR/LF in a header, and aborts on its signal', async () => {
    const closed = await listen(createNetServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(request(`${closed}/`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(request(`${closed}/`, { method: 'GET', headers: { authorization: 'Bearer k\r\nx-injected: 1' } })).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });

    const never = await rawServer(() => undefined);
    const before = new AbortController();
    const pending = request(`${never}/`, { method: 'GET', signal: before.signal });
    before.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const endless = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
    const during = new AbortController();
    const res = await request(`${endless}/`, { method: 'GET', signal: during.signal });
    const text = res.body.text();
    during.abort();
    await expect(text).rejects.toMatchObject({ name: 'AbortError' });
  });
});
