import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isVitkitError } from '@vitkit/core';
import {
  CorruptImageError,
  decodeImage,
  decodeImageSync,
  ImageTooLargeError,
  inspectImage,
  toRgb,
  UnsupportedImageError,
} from '../src/index.js';
import { diffStats, fixtureBytes, fixtureNpy, LOCAL_FIXTURES, REFERENCE_DIR } from './helpers.js';

const DECODE = join(LOCAL_FIXTURES, 'decode');
const EXACT = ['rgb.png', 'gray.png', 'gray1.png', 'palette.png', 'rgba.png', 'lossless.webp', 'lossy.webp', 'frame.gif', 'orient6.png'];
const JPEGS = ['q95_444.jpg', 'q90_420.jpg', 'orient8_444.jpg'];

// Ground truth: Pillow 9.4 `ImageOps.exif_transpose(Image.open(f)).convert('RGB')` (fixtures/generate.py).
describe('decoding matches Pillow', () => {
  for (const name of EXACT) {
    it(`${name}: identical pixels`, async () => {
      const ref = fixtureNpy(join(DECODE, `${name}.npy`));
      const img = toRgb(await decodeImage(fixtureBytes(join(DECODE, name))));
      expect([img.height, img.width, 3]).toEqual(ref.shape);
      expect(diffStats(img.data, ref.data).max).toBe(0);
    });
  }

  for (const name of JPEGS) {
    it(`${name}: identical pixels (libjpeg-turbo in wasm)`, async () => {
      const ref = fixtureNpy(join(DECODE, `${name}.npy`));
      const img = await decodeImage(fixtureBytes(join(DECODE, name)));
      expect([img.height, img.width, 3]).toEqual(ref.shape);
      expect(diffStats(img.data, ref.data).max).toBe(0);
    });
  }

  it('applies EXIF orientation (and can leave it alone)', async () => {
    const bytes = fixtureBytes(join(DECODE, 'orient6.png'));
    const upright = await decodeImage(bytes);
    const raw = await decodeImage(bytes, { applyExifOrientation: false });
    expect(upright.orientation).toBe(6);
    expect([upright.width, upright.height]).toEqual([48, 64]);
    expect([raw.width, raw.height]).toEqual([64, 48]);
    // Orientation 6 = rotate 90 clockwise: the raw bottom-left pixel becomes the top-left one.
    const bl = (raw.height - 1) * raw.width * 3;
    expect(Array.from(upright.data.subarray(0, 3))).toEqual(Array.from(raw.data.subarray(bl, bl + 3)));
  });

  it('decodes synchronously once WebP is initialized, and reports the format', async () => {
    await decodeImage(fixtureBytes(join(DECODE, 'lossless.webp')));
    expect(decodeImageSync(fixtureBytes(join(DECODE, 'lossless.webp'))).format).toBe('webp');
    expect(decodeImageSync(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png'))).format).toBe('png');
  });
});

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** A PNG whose valid IHDR claims width x height, with no real pixel data. */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), pngChunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function errorOf(bytes: Uint8Array, options = {}): Promise<unknown> {
  try {
    await decodeImage(bytes, options);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('bad input gets a typed error, never a crash', () => {
  it('zero-byte file', async () => {
    const e = await errorOf(new Uint8Array());
    expect(e).toBeInstanceOf(CorruptImageError);
    expect((e as CorruptImageError).code).toBe('E_IMAGE_CORRUPT');
    expect((e as Error).message).toMatch(/empty/);
  });

  it('non-image files', async () => {
    const text = await errorOf(new TextEncoder().encode('hello, this is a text file\n'));
    expect(text).toBeInstanceOf(UnsupportedImageError);
    expect((text as UnsupportedImageError).code).toBe('E_IMAGE_UNSUPPORTED');
    const bmp = await errorOf(new Uint8Array([0x42, 0x4d, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect((bmp as Error).message).toMatch(/BMP files are not supported/);
    const npy = await errorOf(fixtureBytes(join(REFERENCE_DIR, 'hf_vit_224.npy')));
    expect(npy).toBeInstanceOf(UnsupportedImageError);
  });

  it('decompression bomb: a PNG header claiming 100000x100000 is refused before allocating', async () => {
    const bomb = pngHeaderOnly(100000, 100000);
    const e = await errorOf(bomb);
    expect(e).toBeInstanceOf(ImageTooLargeError);
    expect((e as ImageTooLargeError).code).toBe('E_IMAGE_TOO_LARGE');
    expect((e as ImageTooLargeError).width).toBe(100000);
    expect(() => inspectImage(bomb)).toThrow(ImageTooLargeError);
  });

  it('bomb headers in JPEG, GIF and WebP too', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xff, 0xff, 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]);
    expect(await errorOf(jpeg)).toBeInstanceOf(ImageTooLargeError);
    const gif = new Uint8Array([...new TextEncoder().encode('GIF89a'), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x3b]);
    expect(await errorOf(gif)).toBeInstanceOf(ImageTooLargeError);
    const webp = new Uint8Array(30);
    webp.set(new TextEncoder().encode('RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00'), 0);
    webp.set([0, 0, 0, 0, 0xff, 0x3f, 0x00, 0xff, 0x3f, 0x00], 20); // 16384 x 16384 canvas
    expect(await errorOf(webp)).toBeInstanceOf(ImageTooLargeError);
  });

  it('the pixel limit is configurable', async () => {
    const png = fixtureBytes(join(DECODE, 'rgb.png')); // 64x48 = 3072 pixels
    expect(await errorOf(png, { maxPixels: 3071 })).toBeInstanceOf(ImageTooLargeError);
    await expect(decodeImage(png, { maxPixels: 3072 })).resolves.toMatchObject({ width: 64, height: 48 });
  });

  it('truncated files of every format', async () => {
    for (const name of ['rgb.png', 'q95_444.jpg', 'lossy.webp', 'lossless.webp', 'frame.gif']) {
      const bytes = fixtureBytes(join(DECODE, name));
      for (const keep of [8, 20, 40, Math.floor(bytes.length / 2), bytes.length - 10]) {
        const e = await errorOf(bytes.slice(0, keep));
        expect(e, `${name} cut at ${keep}`).toBeDefined();
        expect(isVitkitError(e), `${name} cut at ${keep}: ${String(e)}`).toBe(true);
      }
    }
  });

  it('corrupted bytes: only typed errors or a decoded image, for many random flips', async () => {
    let state = 12345;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (const name of readdirSync(DECODE).filter((f) => !f.endsWith('.npy'))) {
      const bytes = fixtureBytes(join(DECODE, name));
      for (let trial = 0; trial < 25; trial++) {
        const bad = bytes.slice();
        for (let k = 0; k < 4; k++) bad[rand(bad.length)] = rand(256);
        const e = await errorOf(bad);
        if (e !== undefined) expect(isVitkitError(e), `${name} trial ${trial}: ${String(e)}`).toBe(true);
      }
    }
  });

  it('a PNG with a broken CRC is reported as corrupt', async () => {
    const bytes = fixtureBytes(join(DECODE, 'rgb.png')).slice();
    bytes[40] = bytes[40]! ^ 0xff;
    expect(await errorOf(bytes)).toBeInstanceOf(CorruptImageError);
  });

  it('a 1x1 PNG whose IDAT inflates to 256 MiB is refused quickly, without inflating it all', async () => {
    const bomb = pngBomb(256);
    expect(bomb.length).toBeLessThan(300_000);
    const before = process.memoryUsage().rss;
    const start = performance.now();
    const e = await errorOf(bomb);
    const seconds = (performance.now() - start) / 1000;
    expect(e).toBeInstanceOf(CorruptImageError);
    expect((e as Error).message).toMatch(/inflates to more than the 4 bytes its 1x1 header needs/);
    expect(seconds).toBeLessThan(2);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });

  it('PNG raw sizes follow IHDR, interlaced or not', async () => {
    const { pngRawSize } = await import('../src/decode/png.js');
    expect(pngRawSize(1, 1, 8, 2, 0)).toBe(4);
    expect(pngRawSize(64, 48, 8, 6, 0)).toBe(48 * (1 + 256));
    expect(pngRawSize(3, 1, 1, 0, 0)).toBe(2);
    // Adam7 on 1x1: only pass 1 has a pixel.
    expect(pngRawSize(1, 1, 8, 0, 1)).toBe(2);
    // 8x8 gray, 8 bit: passes give 1x1, 1x1, 2x1, 2x2, 4x2, 4x4, 8x4 images.
    expect(pngRawSize(8, 8, 8, 0, 1)).toBe(2 + 2 + 3 + 2 * 3 + 2 * 5 + 4 * 5 + 4 * 9);
    // Every fixture still decodes (the exact size passes the check).
    for (const name of ['rgb.png', 'gray.png', 'gray1.png', 'palette.png', 'rgba.png', 'orient6.png']) {
      await expect(decodeImage(fixtureBytes(join(DECODE, name)))).resolves.toBeDefined();
    }
  });

  it('a GIF whose LZW codes link the code table into a cycle is corrupt, not an endless loop (found by pnpm fuzz)', async () => {
    const file = join(LOCAL_FIXTURES, 'fuzz', 'gif-lzw-cycle.gif');
    // In a child process first: before the fix, omggif spins forever and only the timeout ends it.
    const src = new URL('../src/index.ts', import.meta.url).href;
    const script = `const { decodeImage } = await import(${JSON.stringify(src)}); try { await decodeImage(new Uint8Array((await import('node:fs')).readFileSync(${JSON.stringify(file)}))); console.log('decoded'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const child = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.signal).toBeNull();
    expect(child.stdout).toMatch(/CorruptImageError: GIF could not be decoded: LZW code table has a cycle/);
    const e = await errorOf(fixtureBytes(file));
    expect(e).toBeInstanceOf(CorruptImageError);
  }, 30_000);

  it('a GIF frame larger than the pixel limit is refused before decoding, whatever the logical screen says', async () => {
    expect(await errorOf(gifWithFrame(200, 200), { maxPixels: 10_000 })).toBeInstanceOf(ImageTooLargeError);
    const start = performance.now();
    const e = await errorOf(gifWithFrame(60000, 60000));
    expect(e).toBeInstanceOf(ImageTooLargeError);
    expect((e as ImageTooLargeError).width).toBe(60000);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

/** A 1x1 RGB PNG whose IDAT is `mib` MiB of zeros, deflated (a few hundred KB). */
function pngBomb(mib: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 1);
  new DataView(ihdr.buffer).setUint32(4, 1);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = deflateSync(new Uint8Array(mib * 2 ** 20), { level: 9 });
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array())];
  return Buffer.concat(parts);
}

/** A GIF with a 1x1 logical screen and one frame of the given size (whose LZW data is only a clear code and an end code). */
function gifWithFrame(width: number, height: number): Uint8Array {
  const u16 = (v: number) => [v & 0xff, v >> 8];
  return new Uint8Array([
    ...new TextEncoder().encode('GIF89a'),
    ...u16(1),
    ...u16(1),
    0x80, 0, 0, // global color table of 2 entries
    0, 0, 0, 255, 255, 255,
    0x2c, ...u16(0), ...u16(0), ...u16(width), ...u16(height), 0,
    2, 1, 0x2c, 0, // LZW minimum code size 2; one sub-block: clear (4), end (5)
    0x3b,
  ]);
}

