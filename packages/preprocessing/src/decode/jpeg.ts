import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import { CorruptImageError, UnsupportedImageError } from '../errors.js';
import type { Image8 } from '../image.js';
import { jpegLayout } from './jpeg_color.js';
import { decodeJpegJs } from './jpeg_js.js';

/**
 * JPEG decoding uses libjpeg-turbo's decoder as mozjpeg builds it, compiled to
 * WebAssembly (the `mozjpeg_dec.wasm` of @jsquash/jpeg): the same IDCT, the
 * same "fancy" chroma upsampling and the same YCbCr rounding as Pillow's
 * libjpeg-turbo, so the same pixels in Node and browsers. The module is
 * compiled once and instantiated fresh for every image, so that a malformed
 * file can never leave a damaged decoder behind. In Node the wasm is found
 * automatically. In browsers, `setJpegWasm` (bytes, a module or a URL) gives
 * the same fresh-instance decoder; without it, the package's own loader
 * fetches the wasm from beside its module (bundlers such as Vite and esbuild
 * emit it there) and one instance is kept, replaced after any failure.
 *
 * Until `initJpeg()` (which `decodeImage` awaits) has resolved, and for CMYK
 * JPEGs (which the wasm build cannot output), the pure-JS jpeg-js decoder is
 * used: it can differ from Pillow by a few levels.
 */
type WasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module | URL | string;

interface MozJpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null;
}
type Factory = (options: Record<string, unknown>) => Promise<unknown>;

let configured: WasmSource | undefined;
let compiled: Promise<WebAssembly.Module | MozJpegModule | undefined> | undefined;
/** A compiled module (instantiated per image), or one shared instance (browsers without setJpegWasm). */
let ready: WebAssembly.Module | MozJpegModule | undefined;
/** What the shared instance printed during the current decode. */
const sharedMessages: string[] = [];

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
// Hidden from bundlers: Node built-ins are only ever loaded at run time in Node.
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);
const WASM = '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';

/** Tells the JPEG decoder where its wasm is (bytes, a compiled module, or a URL to fetch). */
export function setJpegWasm(source: WasmSource): void {
  configured = source;
  compiled = undefined;
  ready = undefined;
}

async function fetchModule(src: URL | string): Promise<WebAssembly.Module> {
  const res = await fetch(src);
  if (!res.ok) throw new UnsupportedImageError(`could not fetch the JPEG decoder from ${String(src)}: HTTP ${res.status}`, 'check the URL given to setJpegWasm');
  return WebAssembly.compile(await res.arrayBuffer());
}

async function compile(): Promise<WebAssembly.Module | MozJpegModule | undefined> {
  const src = configured;
  if (src instanceof WebAssembly.Module) return src;
  if (src instanceof Uint8Array) return WebAssembly.compile(src.slice());
  if (src instanceof ArrayBuffer) return WebAssembly.compile(src);
  if (src !== undefined) return fetchModule(src);
  if (isNode) {
    const { createRequire } = (await dynamicImport('node:module')) as typeof import('node:module');
    const { readFile } = (await dynamicImport('node:fs/promises')) as typeof import('node:fs/promises');
    return WebAssembly.compile(await readFile(createRequire(import.meta.url).resolve(WASM)));
  }
  // The emscripten loader's own `new URL('mozjpeg_dec.wasm', import.meta.url)`, which bundlers rewrite.
  const options: Record<string, unknown> = { noInitialRun: true, print: (m: string) => sharedMessages.push(m), printErr: (m: string) => sharedMessages.push(m) };
  await (mozjpegFactory as unknown as Factory)(options);
  return typeof options.decode === 'function' ? (options as unknown as MozJpegModule) : undefined;
}

/** Compiles the JPEG decoder once; resolves to false where none is available (a browser that cannot locate it without setJpegWasm). */
export async function initJpeg(): Promise<boolean> {
  compiled ??= compile().catch(() => undefined);
  ready = await compiled;
  return ready !== undefined;
}

/** Whether the wasm decoder is compiled, so that synchronous decoding is Pillow-exact. */
export function jpegReady(): boolean {
  return ready !== undefined;
}

/** A fresh decoder instance (synchronous: the module is already compiled) and the messages it prints. */
function instantiate(module: WebAssembly.Module): { decoder: MozJpegModule; messages: string[] } {
  const messages: string[] = [];
  const options: Record<string, unknown> = {
    noInitialRun: true,
    print: (m: string) => messages.push(m),
    printErr: (m: string) => messages.push(m),
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(module, imports);
      done(instance);
      return instance.exports;
    },
  };
  // Emscripten sets the module up synchronously when the wasm instantiates synchronously;
  // its functions land on the options object (the promise resolves to that same object).
  (mozjpegFactory as unknown as Factory)(options).catch(() => undefined);
  if (typeof options.decode !== 'function') throw new UnsupportedImageError('the JPEG decoder could not start');
  return { decoder: options as unknown as MozJpegModule, messages };
}

/**
 * Decodes a baseline or progressive JPEG (gray, YCbCr at any subsampling,
 * Adobe RGB) as Pillow does. Truncated files are errors, as in Pillow, not
 * gray-filled images. Returns RGB, or gray for one-component files.
 */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): Image8 {
  const layout = jpegLayout(bytes);
  if (!ready || layout.components === 4) return decodeJpegJs(bytes, maxPixels);
  const shared = !(ready instanceof WebAssembly.Module);
  if (shared) sharedMessages.length = 0;
  const { decoder, messages } = ready instanceof WebAssembly.Module ? instantiate(ready) : { decoder: ready, messages: sharedMessages };
  let out;
  try {
    out = decoder.decode(bytes, false);
  } catch (e) {
    if (shared) {
      // A libjpeg error ends the program: the next decode gets a new instance (jpeg-js until then).
      ready = undefined;
      compiled = undefined;
    }
    const why = messages.join('; ') || (e instanceof Error ? e.message : String(e));
    if (/unsupported|not supported|bogus.*(colorspace|color space)/i.test(why)) throw new UnsupportedImageError(`JPEG variant is not supported: ${why}`);
    throw new CorruptImageError(`JPEG could not be decoded: ${why}`, undefined, { cause: e });
  }
  if (!out) throw new CorruptImageError(`JPEG could not be decoded${messages.length ? `: ${messages.join('; ')}` : ''}`);
  // libjpeg warns and fills the rest with gray; Pillow refuses a truncated file.
  if (messages.some((m) => /premature end/i.test(m))) throw new CorruptImageError('JPEG is truncated (premature end of data)');
  const { width, height, data } = out;
  if (!width || !height || data.length !== width * height * 4) throw new CorruptImageError('JPEG decoded to an empty or inconsistent image');
  const channels = layout.components === 1 ? 1 : 3;
  const pixels = new Uint8Array(width * height * channels);
  for (let p = 0, q = 0; p < pixels.length; p += channels, q += 4) {
    pixels[p] = data[q]!;
    if (channels === 3) {
      pixels[p + 1] = data[q + 1]!;
      pixels[p + 2] = data[q + 2]!;
    }
  }
  return { data: pixels, width, height, channels };
}
