import { CorruptImageError, UnsupportedImageError } from '../errors.js';
import type { Image8 } from '../image.js';

/**
 * WebP decoding uses libwebp compiled to WebAssembly (the `webp.wasm` file of
 * the @cwasm/webp package), instantiated fresh for every image so that a
 * malformed file can never leave a damaged decoder behind. In Node the file
 * is found automatically; in browsers pass it with `setWebpWasm` (or let
 * `decodeImage` fall back to the browser's own decoder).
 */
type WasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module | URL | string;

let configured: WasmSource | undefined;
let compiled: Promise<WebAssembly.Module | undefined> | undefined;
let ready: WebAssembly.Module | undefined;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
// Hidden from bundlers: Node built-ins are only ever loaded at run time in Node.
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/** Tells the WebP decoder where its wasm is (bytes, a compiled module, or a URL to fetch). */
export function setWebpWasm(source: WasmSource): void {
  configured = source;
  compiled = undefined;
  ready = undefined;
}

async function compile(): Promise<WebAssembly.Module | undefined> {
  const src = configured;
  if (src instanceof WebAssembly.Module) return src;
  if (src instanceof Uint8Array) return WebAssembly.compile(src.slice());
  if (src instanceof ArrayBuffer) return WebAssembly.compile(src);
  if (src !== undefined) {
    const res = await fetch(src);
    if (!res.ok) throw new UnsupportedImageError(`could not fetch the WebP decoder from ${String(src)}: HTTP ${res.status}`, 'check the URL given to setWebpWasm');
    return WebAssembly.compile(await res.arrayBuffer());
  }
  if (!isNode) return undefined;
  const { createRequire } = (await dynamicImport('node:module')) as typeof import('node:module');
  const { readFile } = (await dynamicImport('node:fs/promises')) as typeof import('node:fs/promises');
  const file = createRequire(import.meta.url).resolve('@cwasm/webp/webp.wasm');
  return WebAssembly.compile(await readFile(file));
}

/** Compiles the WebP decoder once; resolves to false where none is available (browser without setWebpWasm). */
export async function initWebp(): Promise<boolean> {
  compiled ??= compile();
  ready = await compiled;
  return ready !== undefined;
}

/** Whether the wasm decoder is compiled, so that `decodeWebpSync` works. */
export function webpReady(): boolean {
  return ready !== undefined;
}

interface WebpExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  WebPDecodeRGBA(data: number, size: number, width: number, height: number): number;
}

const unavailable = (): never => {
  throw new Error('system calls are not available to the WebP decoder');
};

/** Decodes a WebP (lossy, lossless or extended, first frame) to RGBA with the compiled decoder. */
export function decodeWebpSync(bytes: Uint8Array): Image8 {
  if (!ready) throw new UnsupportedImageError('the WebP decoder is not initialized', 'await initWebp() first, or use the async decodeImage');
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(ready, { wasi_snapshot_preview1: { fd_close: unavailable, fd_seek: unavailable, fd_write: unavailable } });
  } catch (e) {
    throw new UnsupportedImageError(`the WebP decoder could not start: ${e instanceof Error ? e.message : String(e)}`);
  }
  const wasm = instance.exports as unknown as WebpExports;
  try {
    const input = wasm.malloc(bytes.length);
    const dims = wasm.malloc(8);
    if (!input || !dims) throw new CorruptImageError('WebP decoder is out of memory');
    new Uint8Array(wasm.memory.buffer, input, bytes.length).set(bytes);
    const out = wasm.WebPDecodeRGBA(input, bytes.length, dims, dims + 4);
    if (!out) throw new CorruptImageError('WebP could not be decoded');
    const [width, height] = new Uint32Array(wasm.memory.buffer, dims, 2);
    const data = new Uint8Array(wasm.memory.buffer, out, width! * height! * 4).slice();
    return { data, width: width!, height: height!, channels: 4 };
  } catch (e) {
    if (e instanceof CorruptImageError) throw e;
    throw new CorruptImageError(`WebP could not be decoded: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}
