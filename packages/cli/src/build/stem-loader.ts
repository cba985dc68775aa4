/**
 * The stem-cell loader, baked into the base image at STEM_LOADER_PATH. A server may start base-image containers
 * (hardened like any function container) running it, before any function needs one. The loader listens on
 * `<socket dir>/stem.sock`; the server claims the container by sending one message (a 4-byte big-endian header
 * length, a JSON header `{ env, files: [{ name, size }], sourceMaps }`, then the files' bytes) and closing its side.
 * The loader writes the files under /tmp/function (the container's own tmpfs; /function is read-only), sets the
 * environment, and imports func.mjs, whose FDK then publishes the function's socket as in any container. Nothing
 * here is imported: the source is written into the image as it stands (Node built-ins only).
 */
export const STEM_LOADER_PATH = '/fnts/stem-loader.mjs';

export const STEM_LOADER_SOURCE = `// fnts stem cell: waits for one function's bundle, then becomes that function.
import { createServer } from 'node:net';
import { chmodSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
// What every bundle's FDK loads before it listens, loaded while the stem cell waits rather than after its claim; and
// Node's source-map support, for bundles whose entrypoint has --enable-source-maps (an FDK that predates its own lazy
// mapping), turned on now for the same reason; a claim whose header says otherwise turns it off.
import 'node:http';
import 'node:stream';
import 'node:stream/promises';
import 'node:fs/promises';
import 'node:module';
process.setSourceMapsEnabled(true);

const socketPath = '/tmp/iofs/stem.sock';
const dir = '/tmp/function';
const fail = (why) => {
  process.stderr.write('fnts stem cell: ' + why + '\\n');
  process.exit(70);
};
const server = createServer({ allowHalfOpen: true }, (conn) => {
  server.close();
  const chunks = [];
  conn.on('data', (chunk) => chunks.push(chunk));
  conn.on('error', (err) => fail(String(err)));
  conn.on('end', () => {
    conn.end();
    try {
      unlinkSync(socketPath);
    } catch {}
    const all = Buffer.concat(chunks);
    const headerLength = all.readUInt32BE(0);
    const header = JSON.parse(all.subarray(4, 4 + headerLength).toString('utf8'));
    mkdirSync(dir, { recursive: true });
    let at = 4 + headerLength;
    for (const f of header.files) {
      if (!/^[\\w.-]+$/.test(f.name)) fail('bad file name');
      writeFileSync(dir + '/' + f.name, all.subarray(at, at + f.size));
      at += f.size;
    }
    Object.assign(process.env, header.env);
    if (!header.sourceMaps) process.setSourceMapsEnabled(false);
    process.argv[1] = dir + '/func.mjs';
    import(dir + '/func.mjs').catch((err) => {
      console.error(err);
      process.exit(1);
    });
  });
});
server.on('error', (err) => fail(String(err)));
server.listen(socketPath, () => chmodSync(socketPath, 0o666));
`;
