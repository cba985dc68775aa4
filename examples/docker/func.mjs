// A function image with no FDK and no packages: it speaks the Fn container contract with Node's built-ins, to show
// that runtime docker runs any image that does. In your own image, COPY node_modules holding @fnts/fdk (or Fn's
// @fnproject/fdk) and call handle() instead.
import { chmodSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, dirname, join } from 'node:path';

const listener = process.env.FN_LISTENER ?? '';
if ((process.env.FN_FORMAT ?? '').toLowerCase() !== 'http-stream' || !listener.startsWith('unix:')) {
  console.error('this function needs FN_FORMAT=http-stream and FN_LISTENER=unix:<path>');
  process.exit(2);
}
const socket = listener.slice('unix:'.length);
// Listen on a "phony" socket, then link the real name to it: the name appearing tells the server we are ready.
const phony = join(dirname(socket), `phony-${basename(socket)}`);

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let name = 'World';
    try {
      name = JSON.parse(Buffer.concat(chunks).toString('utf8')).name ?? name;
    } catch {
      // not JSON: greet the world
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Fn-Http-Status': '200' });
    res.end(JSON.stringify({ message: `${process.env.GREETING ?? 'Hello'} ${name}`, runtime: 'docker' }));
  });
});
server.keepAliveTimeout = 0; // the server may reuse the connection or open a new one per call
server.listen(phony, () => {
  chmodSync(phony, 0o666);
  symlinkSync(basename(phony), socket);
});
process.on('SIGTERM', () => {
  try {
    unlinkSync(socket);
  } catch {
    // already gone
  }
  process.exit(0);
});
