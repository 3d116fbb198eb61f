// A static file server on 127.0.0.1 (the browser demo's server, and the tests' for Chromium).
// Only files under `root`; no directory listings.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.gz': 'application/gzip',
  '.png': 'image/png',
};

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The headers that make a page cross-origin isolated: it then has SharedArrayBuffer, which a
 * threaded trainer's shared memory needs. Every resource here is same-origin, so nothing breaks.
 */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

/**
 * Serves `root` on 127.0.0.1:`port` (0: any free port, see `url`); with `crossOriginIsolated`,
 * with the headers that isolate its pages (the demo's server: threads).
 */
export async function serveStatic(root: string, port = 0, options: { readonly crossOriginIsolated?: boolean } = {}): Promise<Served> {
  const isolation = options.crossOriginIsolated ? ISOLATION : {};
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(normalize(root) + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation }).end(body),
      () => res.writeHead(404).end(`not found: ${path}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
