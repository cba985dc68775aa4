import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { WARMUP_PATH } from '@fnts/api/contract';
import { warmUpCall } from '../src/agent/warm-up.js';

/** A stand-in for a container's FDK on a real unix socket: `answer` says how it answers each request. */
const open: { server: Server; client: Client; dir: string }[] = [];
async function fdk(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ client: Client; seen: { url: string; headers: IncomingMessage['headers']; body: string }[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'fnts-warm-up-'));
  const seen: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'lsnr.sock'), resolve));
  const client = new Client('http://localhost', { socketPath: join(dir, 'lsnr.sock') });
  open.push({ server, client, dir });
  return { client, seen };
}

afterEach(async () => {
  for (const { server, client, dir } of open.splice(0)) {
    await client.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

const fntsAnswer = (_req: IncomingMessage, res: ServerResponse) => {
  // As the fnts FDK answers: with its name and the body's length.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 13, 'Fn-Fdk-Version': 'fnts-fdk/0.1.0 (njsv=v20)' });
  res.end('{"warm":true}');
};

describe('warmUpCall', () => {
  it('sends POST /.fnts-warmup with a real call\'s headers, and is true when the fnts FDK answers', async () => {
    const { client, seen } = await fdk(fntsAnswer);
    expect(await warmUpCall(client, 7)).toBe(true);
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call?.url).toBe(WARMUP_PATH);
    expect(call?.headers['fn-call-id']).toBe('warm-up-7');
    expect(Date.parse(call?.headers['fn-deadline'] as string)).toBeGreaterThan(Date.now() + 20_000);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(call?.body ?? '')).toEqual({ 'warm-up': true });
  });

  it('is false for any other answer: another FDK\'s refusal, a 200 without the fnts FDK\'s name, a long body', async () => {
    const refusing = await fdk((_req, res) => {
      res.writeHead(400, { 'Fn-Fdk-Version': 'fdk-node/0.0.76' });
      res.end('{"message":"Invalid method"}');
    });
    expect(await warmUpCall(refusing.client, 0)).toBe(false);
    const other = await fdk((_req, res) => res.end('"ran the function"'));
    expect(await warmUpCall(other.client, 0)).toBe(false);
    const long = await fdk((_req, res) => {
      res.writeHead(200, { 'Fn-Fdk-Version': 'fnts-fdk/0.1.0' });
      res.end(Buffer.alloc(1024 * 1024, 'x'));
    });
    expect(await warmUpCall(long.client, 0)).toBe(false);
  });

  it('is false, not stuck, when the answer never comes, and the connection serves the next request', async () => {
    let hang = true;
    const { client } = await fdk((req, res) => {
      if (hang) return; // never answers
      fntsAnswer(req, res);
    });
    expect(await warmUpCall(client, 0, 200)).toBe(false);
    hang = false;
    expect(await warmUpCall(client, 1, 2000)).toBe(true);
  });
});
