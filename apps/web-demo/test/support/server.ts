import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
  '.npz': 'application/octet-stream',
  '.npy': 'application/octet-stream',
};

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, so wasm threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface StaticServer {
  url: string;
  /** Requests served, by path, to check what came from the network. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 with cross-origin isolation headers; `mounts`
 * maps URL prefixes ("/hf/") to other directories and `aliases` exact URL
 * paths to files (to lay out a fixture as a Hub repository).
 */
export async function serveStatic(root: string, mounts: Record<string, string> = {}, aliases: Record<string, string> = {}): Promise<StaticServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const alias = aliases[path];
    if (alias) {
      sendFile(res, alias);
      return;
    }
    let base = root;
    let rest = path;
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (path.startsWith(prefix)) {
        base = dir;
        rest = path.slice(prefix.length - 1);
        break;
      }
    }
    const file = normalize(join(base, rest.endsWith('/') ? `${rest}index.html` : rest));
    if (!file.startsWith(normalize(base) + sep) && file !== normalize(base)) {
      res.writeHead(403).end();
      return;
    }
    sendFile(res, file);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendFile(res: ServerResponse, file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    res.writeHead(404, ISOLATION_HEADERS).end('not found');
    return;
  }
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': String(size),
    'Cache-Control': 'no-store',
  });
  createReadStream(file).pipe(res);
}
