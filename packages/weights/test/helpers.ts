import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type RawTensors } from '../src/index.js';

/** The reference fixtures; reading one that is missing throws (tests fail, never skip). */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/reference/', import.meta.url));
export const MICRO = join(FIXTURES, 'vit-micro');

export function fixtureBytes(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, relative)));
}

/** The ground-truth timm tensors of vit-micro, as stored in timm.safetensors. */
export function referenceTimm(): RawTensors {
  return parseSafetensors(fixtureBytes('vit-micro/timm.safetensors')).tensors;
}

export const MICRO_HEADS = 4;

export function bytesOf(data: ArrayBufferView): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Asserts two tensor maps hold the same names, shapes and bit-identical data; returns a list of differences. */
export function differences(a: RawTensors, b: RawTensors): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (!x || !y) out.push(`${k}: only in ${x ? 'first' : 'second'}`);
    else if (x.shape.join() !== y.shape.join()) out.push(`${k}: shape [${x.shape}] vs [${y.shape}]`);
    else if (x.data.constructor !== y.data.constructor || !bytesOf(x.data).equals(bytesOf(y.data))) out.push(`${k}: data differs`);
  }
  return out;
}

export function tempDir(prefix = 'vitkit-weights-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestServer {
  url: string;
  /** Paths fetched (GET) so far, in order. */
  requests: string[];
  /** Paths asked about with HEAD so far, in order. */
  heads: string[];
  close(): Promise<void>;
}

export interface ServeOptions {
  chunk?: number;
  /** Extra response headers for a path (ETag, X-Repo-Commit, ...). */
  headers?: (path: string) => Record<string, string> | undefined;
  /** Takes over a path's response entirely (stalls, lies, compressed bodies). */
  custom?: (path: string, res: ServerResponse) => boolean;
}

/** Serves files from a map of URL path -> bytes on 127.0.0.1 (404 for anything else). The map may change between requests. */
export async function serve(files: Map<string, Uint8Array>, options: ServeOptions = {}): Promise<TestServer> {
  const requests: string[] = [];
  const heads: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    (req.method === 'HEAD' ? heads : requests).push(path);
    if (req.method !== 'HEAD' && options.custom?.(path, res)) return;
    const body = files.get(path);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), ...options.headers?.(path) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Several writes a few milliseconds apart, so clients see several progress events.
    const step = options.chunk ?? 16384;
    let at = 0;
    const next = () => {
      if (at >= body.length) {
        res.end();
        return;
      }
      res.write(body.subarray(at, at + step));
      at += step;
      setTimeout(next, 2);
    };
    next();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    heads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
