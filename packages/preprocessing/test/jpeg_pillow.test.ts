// JPEG decoding against Pillow 9.4 / libjpeg-turbo 2.1.5 (fixtures/jpeg/generate.py made the files and their pixels).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorruptImageError, decodeImage, decodeImageSync, initJpeg, jpegReady, toRgb } from '../src/index.js';
import { diffStats, fixtureBytes, fixtureNpy, LOCAL_FIXTURES } from './helpers.js';

const DIR = join(LOCAL_FIXTURES, 'jpeg');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.jpg'));

describe('JPEG decoding is Pillow-exact (libjpeg-turbo in wasm)', () => {
  beforeAll(async () => {
    expect(await initJpeg()).toBe(true);
  });

  it('has the variants to test', () => {
    expect(FILES).toEqual(expect.arrayContaining(['photo_420.jpg', 'photo_444.jpg', 'progressive_420.jpg', 'gray.jpg', 'cmyk.jpg', 'orient6_420.jpg']));
  });

  for (const name of FILES) {
    it(`${name}: ${name === 'cmyk.jpg' ? 'within the jpeg-js tolerance (CMYK)' : 'identical pixels'}`, async () => {
      const ref = fixtureNpy(join(DIR, `${name}.npy`));
      const img = toRgb(await decodeImage(fixtureBytes(join(DIR, name))));
      expect([img.height, img.width, 3]).toEqual(ref.shape);
      const d = diffStats(img.data, ref.data);
      console.log(`${name}: max ${d.max}, mean ${d.mean.toFixed(4)}`);
      if (name === 'cmyk.jpg') expect(d.max).toBeLessThanOrEqual(1); // jpeg-js: the wasm build cannot output CMYK
      else expect(d.max).toBe(0);
    });
  }

  it('gray JPEGs decode to one channel, as Pillow\'s mode L', async () => {
    expect((await decodeImage(fixtureBytes(join(DIR, 'gray.jpg')))).channels).toBe(1);
  });

  it('decodes synchronously once initialized, and refuses truncated files as Pillow does', () => {
    expect(jpegReady()).toBe(true);
    const bytes = fixtureBytes(join(DIR, 'photo_420.jpg'));
    expect(decodeImageSync(bytes).format).toBe('jpeg');
    for (const keep of [bytes.length - 10, Math.floor(bytes.length / 2), 700]) {
      expect(() => decodeImageSync(bytes.slice(0, keep)), `cut at ${keep}`).toThrow(CorruptImageError);
    }
  });
});
