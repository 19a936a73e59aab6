import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, preprocess, presetSpec, toRgb } from '../src/index.js';
import { diffStats, fixtureBytes, fixtureNpy, LOCAL_FIXTURES, REFERENCE_DIR } from './helpers.js';

// The same numbers in Node and in a real browser: headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; nothing is downloaded) loads
// the bundled browser entry from a local server and preprocesses chelsea.png.
const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

const fromBase64F32 = (s: string): Float32Array => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const fromBase64U8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

describe('browser path (headless Chromium)', () => {
  let server: Server;
  let context: BrowserContext | undefined;
  let userDataDir: string;
  let results: Record<string, string | number>;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`apt-get install chromium\` (Debian's package; no browser is downloaded)`);
    const bundle = await build({
      entryPoints: [join(here, 'browser/page.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@vitkit/source'],
      write: false,
      logLevel: 'silent',
    });
    const files: Record<string, [string, Uint8Array]> = {
      '/': ['text/html', new TextEncoder().encode('<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="/page.js"></script>')],
      '/page.js': ['text/javascript', bundle.outputFiles[0]!.contents],
      '/chelsea.png': ['image/png', fixtureBytes(join(REFERENCE_DIR, 'chelsea.png'))],
      '/lossless.webp': ['image/webp', fixtureBytes(join(LOCAL_FIXTURES, 'decode/lossless.webp'))],
      '/webp.wasm': ['application/wasm', fixtureBytes(createRequire(import.meta.url).resolve('@cwasm/webp/webp.wasm'))],
      '/mozjpeg_dec.wasm': ['application/wasm', fixtureBytes(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'))],
      '/photo_420.jpg': ['image/jpeg', fixtureBytes(join(LOCAL_FIXTURES, 'jpeg/photo_420.jpg'))],
    };
    server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    userDataDir = mkdtempSync(join(tmpdir(), 'vitkit-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`page did not load: ${errors.join('; ') || 'no page error reported'}`);
    });
    results = (await page.evaluate(() => (globalThis as unknown as { runVitkit: () => Promise<Record<string, string | number>> }).runVitkit())) as Record<string, string | number>;
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('the browser decodes chelsea.png to the same pixels as Node (no resampling, no color management)', async () => {
    const node = toRgb(await decodeImage(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png'))));
    expect(results.nativeSize).toBe('451x300');
    expect(diffStats(fromBase64U8(results.nativeRgb as string), node.data).max).toBe(0);
    expect(diffStats(fromBase64U8(results.pureRgb as string), node.data).max).toBe(0);
  });

  for (const preset of ['timm', 'hf', 'torchvision'] as const) {
    it(`${preset}: browser-decoded, typed-array and tfjs results equal Node's`, async () => {
      const node = preprocess(await decodeImage(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png'))), presetSpec(preset));
      const spec = presetSpec(preset);
      const level = (spec.std![0]! * 255) as number; // one pixel level in model units (channel 0; others are similar)
      for (const path of ['native', 'pure', 'tfjs']) {
        const browser = fromBase64F32(results[`${path}:${preset}`] as string);
        expect(browser.length).toBe(node.data.length);
        const d = diffStats(browser, node.data);
        expect(d.max * level, `${path} max diff in levels`).toBeLessThanOrEqual(1);
        expect(d.max, `${path} should be bit-identical`).toBeLessThan(1e-6);
      }
    });
  }

  it('JPEG decodes to Pillow\'s pixels in the browser too, with the default loader and with setJpegWasm', () => {
    const ref = fixtureNpy(join(LOCAL_FIXTURES, 'jpeg/photo_420.jpg.npy'));
    expect(results.jpegDefaultReady).toBe(1);
    expect(results.jpegFreshReady).toBe(1);
    expect(diffStats(fromBase64U8(results.jpegDefault as string), ref.data).max).toBe(0);
    expect(diffStats(fromBase64U8(results.jpegFresh as string), ref.data).max).toBe(0);
  });

  it('WebP decodes identically with the wasm decoder and the browser, and no tensors leak', async () => {
    const node = toRgb(await decodeImage(fixtureBytes(join(LOCAL_FIXTURES, 'decode/lossless.webp'))));
    expect(diffStats(fromBase64U8(results.webpWasm as string), node.data).max).toBe(0);
    expect(diffStats(fromBase64U8(results.webpNative as string), node.data).max).toBe(0);
    expect(results.tensors).toBe(0);
  });
});
