/**
 * The demo in a real browser: builds the app with Vite, serves dist/ with
 * cross-origin isolation from 127.0.0.1 and drives Debian's Chromium.
 * Numbers are checked against fixtures/reference (computed by torchvision).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, setupBackend } from '@vitkit/core';
import { cosineSimilarity, loadImageEmbedder } from '@vitkit/tasks';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './support/browser.js';
import { APP_DIR, buildApp } from './support/build.js';
import { serveStatic, type StaticServer } from './support/server.js';

const FIXTURES = join(APP_DIR, '..', '..', 'fixtures', 'reference', 'vit-micro');
/** timm micro models of the ViT family (timm hub config.json: architecture + model_args). */
const FAMILY = join(APP_DIR, '..', '..', 'fixtures', 'reference', 'vit-family');
const SCREENSHOTS = join(APP_DIR, 'screenshots');
const SAMPLES = JSON.parse(readFileSync(join(APP_DIR, 'public', 'samples', 'samples.json'), 'utf8')) as {
  samples: { file: string; label: number; className: string }[];
};
/** Logit tolerance the brief asks of every backend (float32 on GPU emulation included). */
const LOGIT_TOLERANCE = 1e-4;

function fixture(name: string): string {
  return join(FIXTURES, name);
}

function readNpy(name: string): { shape: number[]; data: Float32Array } {
  const arr = parseNpy(new Uint8Array(readFileSync(fixture(name))));
  return { shape: arr.shape, data: arr.data as Float32Array };
}

let distDir: string;
let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Fail early and clearly when a fixture or the browser is missing (never skip).
  for (const f of ['timm.safetensors', 'hf-config.json', 'input_nhwc.npy', 'expected_logits.npy', 'expected_attention_block0.npy']) readFileSync(fixture(f));
  browser = await launchChromium();
  distDir = buildApp();
  server = await serveStatic(
    distDir,
    { '/fixtures/vit-micro/': FIXTURES, '/fixtures/vit-family/': FAMILY },
    {
      // A config.json next to the weights, as exports have it.
      '/fixtures/vit-micro/config.json': fixture('hf-config.json'),
      // vit-micro laid out as a Hugging Face Hub repository (HF names), for hf:// through ?hf-endpoint=.
      '/hub/vitkit/vit-micro/resolve/main/config.json': fixture('hf-config.json'),
      '/hub/vitkit/vit-micro/resolve/main/model.safetensors': fixture('hf.safetensors'),
      // dinov2-reg (timm names, timm hub config) as a Hub repository.
      '/hub/vitkit/dinov2-reg/resolve/main/config.json': join(FAMILY, 'dinov2-reg', 'config.json'),
      '/hub/vitkit/dinov2-reg/resolve/main/model.safetensors': join(FAMILY, 'dinov2-reg', 'timm.safetensors'),
    },
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (distDir) rmSync(distDir, { recursive: true, force: true });
});

interface OpenPage {
  page: Page;
  consoleErrors: string[];
}

/** Opens the app and waits until its startup (backend, bundled model) has finished. */
async function openApp(query = ''): Promise<OpenPage> {
  const page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  await page.goto(server.url + query);
  await idle(page);
  return { page, consoleErrors };
}

async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => window.vitkit !== undefined);
  await page.evaluate(() => window.vitkit.idle());
}

async function errorsShown(page: Page): Promise<{ code: string; reason: string; hint?: string }[]> {
  return page.evaluate(() => window.vitkit.errors.map((e) => ({ ...e })));
}

/** Largest |logit - reference| over the whole batch. */
function maxLogitDiff(logits: number[][]): number {
  const expected = readNpy('expected_logits.npy');
  const flat = logits.flat();
  expect(flat.length).toBe(expected.data.length);
  return Math.max(...flat.map((v, i) => Math.abs(v - expected.data[i]!)));
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function lastResult(page: Page): Promise<{ logits: number[][]; top: { index: number; label: string }[]; backend: string; perHead: number[]; grid: number[] }> {
  return page.evaluate(() => {
    const r = window.vitkit.lastResult!;
    return { logits: r.logits, top: r.top, backend: r.backend, perHead: Array.from(r.attention.perHead), grid: r.attention.grid };
  });
}

describe('web demo in Chromium', () => {
  it('loads with no console errors and classifies every bundled sample as its true class', async () => {
    const { page, consoleErrors } = await openApp('?backend=wasm');
    expect(await errorsShown(page)).toEqual([]);
    expect(await page.evaluate(() => window.vitkit.model?.name)).toMatch(/Fashion-MNIST/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await screenshot(page, '01-loaded');

    const tensors: number[] = [];
    for (const sample of SAMPLES.samples) {
      await page.click(`#gallery button[data-label="${sample.label}"]`);
      await idle(page);
      const result = await lastResult(page);
      expect(result.top[0]?.index, `sample ${sample.file}`).toBe(sample.label);
      expect(await page.textContent('#top5 li:first-child .label')).toBe(sample.className);
      tensors.push(await page.evaluate(() => window.vitkit.lastResult!.tensorsInMemory));
    }
    // The worker frees every tensor of a run: the count stays where the model's weights put it.
    expect(new Set(tensors).size).toBe(1);
    // The threaded wasm binary ran (its pthread workers start in a minified bundle).
    expect([...server.hits.keys()].some((k) => /tfjs-backend-wasm-threaded-simd-.*\.wasm$/.test(k))).toBe(true);
    // Every core (tfjs alone takes half of navigator.hardwareConcurrency).
    const cores = await page.evaluate(() => Math.min(8, navigator.hardwareConcurrency));
    expect(await page.textContent('#backend-info')).toContain(`Using wasm (${cores} thread${cores === 1 ? '' : 's'}, SIMD)`);
    expect(await errorsShown(page)).toEqual([]);
    await screenshot(page, '02-sample-classified');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  for (const backend of ['cpu', 'wasm', 'webgl', 'webgpu'] as const) {
    it(`gives the reference logits for vit-micro (timm.safetensors + hf-config.json, input_nhwc.npy) on ${backend}`, async () => {
      const { page, consoleErrors } = await openApp(`?backend=${backend}`);
      // The backend asked for, not a silent fallback.
      expect(await page.evaluate(() => window.vitkit.backend?.name)).toBe(backend);

      await page.setInputFiles('#model-files', [fixture('timm.safetensors'), fixture('hf-config.json')]);
      await idle(page);
      expect(await errorsShown(page)).toEqual([]);
      expect(await page.evaluate(() => window.vitkit.model?.depth)).toBe(2);

      await page.setInputFiles('#image-file', fixture('input_nhwc.npy'));
      await idle(page);
      expect(await errorsShown(page)).toEqual([]);
      const result = await lastResult(page);
      expect(result.backend).toBe(backend);

      const expected = readNpy('expected_logits.npy');
      const [batch, classes] = expected.shape as [number, number];
      expect(result.logits.length).toBe(batch);
      let maxDiff = 0;
      for (let b = 0; b < batch; b++) {
        const row = result.logits[b]!;
        expect(row.length).toBe(classes);
        const want = Array.from(expected.data.subarray(b * classes, (b + 1) * classes));
        for (let c = 0; c < classes; c++) maxDiff = Math.max(maxDiff, Math.abs(row[c]! - want[c]!));
        // Top-1 of every image in the batch.
        expect(row.indexOf(Math.max(...row)), `top-1 of image ${b}`).toBe(want.indexOf(Math.max(...want)));
      }
      console.log(`[web-demo] ${backend}: max |logit - reference| = ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(LOGIT_TOLERANCE);
      expect(result.top[0]?.index).toBe(Number(await page.getAttribute('#results', 'data-top1')));

      // Layer 1's per-head maps are the class token's attention row over the patches (block 0 of the reference).
      const attention = readNpy('expected_attention_block0.npy');
      const [, heads, tokens] = attention.shape as [number, number, number, number];
      const patches = tokens - 1;
      let attnDiff = 0;
      for (let h = 0; h < heads; h++) {
        for (let p = 0; p < patches; p++) {
          const want = attention.data[((0 * heads + h) * tokens + 0) * tokens + 1 + p]!;
          attnDiff = Math.max(attnDiff, Math.abs(result.perHead[h * patches + p]! - want));
        }
      }
      expect(attnDiff).toBeLessThan(LOGIT_TOLERANCE);

      await page.check('input[name="attention-mode"][value="layer"]');
      await screenshot(page, `03-vit-micro-${backend}`);
      expect(consoleErrors).toEqual([]);
      await page.close();
    });
  }

  it('shows clear errors for a broken checkpoint, incompatible weights and an undecodable image, and keeps working', async () => {
    const { page } = await openApp('?backend=wasm');
    const before = (await errorsShown(page)).length;

    await page.setInputFiles('#model-files', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a checkpoint at all') });
    await idle(page);
    let errors = await errorsShown(page);
    expect(errors.length).toBe(before + 1);
    expect(errors.at(-1)!.code).toBe('E_FORMAT');
    await expect.poll(() => page.locator('.message[role="alert"]').count()).toBe(1);

    // A config that does not match the weights (3 blocks instead of 2).
    const config = JSON.parse(readFileSync(fixture('hf-config.json'), 'utf8')) as Record<string, unknown>;
    await page.setInputFiles('#model-files', [
      { name: 'timm.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(fixture('timm.safetensors')) },
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...config, num_hidden_layers: 3 })) },
    ]);
    await idle(page);
    errors = await errorsShown(page);
    expect(errors.length).toBe(before + 2);
    expect(errors.at(-1)!.code).toBe('E_STATE_DICT');

    await page.setInputFiles('#image-file', { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('definitely not a PNG') });
    await idle(page);
    errors = await errorsShown(page);
    expect(errors.length).toBe(before + 3);
    expect(errors.at(-1)!.code).toBe('E_INPUT');
    expect(errors.at(-1)!.reason).toMatch(/cannot decode/);
    expect(await page.locator('.message[role="alert"]').first().textContent()).toMatch(/Cannot decode "photo.png"/);
    await screenshot(page, '04-errors');

    // Still the bundled model, still classifying.
    expect(await page.evaluate(() => window.vitkit.model?.name)).toMatch(/Fashion-MNIST/);
    const sample = SAMPLES.samples[0]!;
    await page.click(`#gallery button[data-label="${sample.label}"]`);
    await idle(page);
    expect((await lastResult(page)).top[0]?.index).toBe(sample.label);
    expect((await errorsShown(page)).length).toBe(before + 3);
    await page.close();
  });

  it('loads a checkpoint by URL (config.json beside it) and from the Cache API on the next visit', async () => {
    const url = `${server.url}fixtures/vit-micro/timm.safetensors`;
    const first = await openApp('?backend=cpu');
    await first.page.fill('#model-url', url);
    await first.page.click('#model-url-form button[type="submit"]');
    await idle(first.page);
    expect(await errorsShown(first.page)).toEqual([]);
    expect(await first.page.evaluate(() => window.vitkit.model?.fromCache)).toBe(false);
    // The weights' download was reported to the end (config.json and preprocessor_config.json are looked for after them).
    const progress = await first.page.evaluate(() => window.vitkit.progressByFile['timm.safetensors']);
    expect(progress?.total).toBe(readFileSync(fixture('timm.safetensors')).length);
    expect(progress?.loaded).toBe(progress?.total);
    const downloads = server.hits.get('/fixtures/vit-micro/timm.safetensors');
    expect(downloads).toBe(1);
    await first.page.close();

    const second = await openApp(`?backend=cpu&model=${encodeURIComponent(url)}`);
    expect(await errorsShown(second.page)).toEqual([]);
    expect(await second.page.evaluate(() => window.vitkit.model?.fromCache)).toBe(true);
    expect(server.hits.get('/fixtures/vit-micro/timm.safetensors')).toBe(downloads);
    await second.page.setInputFiles('#image-file', fixture('input_nhwc.npy'));
    await idle(second.page);
    expect(maxLogitDiff((await lastResult(second.page)).logits)).toBeLessThan(LOGIT_TOLERANCE);
    expect(second.consoleErrors).toEqual([]);
    await second.page.close();
  });

  it('loads hf://org/repo (Hugging Face names and config) from a Hub endpoint', async () => {
    const { page, consoleErrors } = await openApp(`?backend=cpu&hf-endpoint=${encodeURIComponent(`${server.url}hub`)}`);
    await page.fill('#model-url', 'hf://vitkit/vit-micro');
    await page.press('#model-url', 'Enter');
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    expect(await page.evaluate(() => window.vitkit.model?.labels[0])).toBe('class_0');
    await page.setInputFiles('#image-file', fixture('input_nhwc.npy'));
    await idle(page);
    expect(maxLogitDiff((await lastResult(page)).logits)).toBeLessThan(LOGIT_TOLERANCE);
    expect(await page.textContent('#top5 li:first-child .label')).toMatch(/^class_\d$/);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('runs ViT-family checkpoints (timm hub config.json) from a file, a URL and hf://: classes, or embeddings', async () => {
    const { page, consoleErrors } = await openApp(`?backend=cpu&hf-endpoint=${encodeURIComponent(`${server.url}hub`)}`);
    const familyLogits = (name: string): number[][] => {
      const arr = parseNpy(new Uint8Array(readFileSync(join(FAMILY, name, 'logits.npy'))));
      const [rows, cols] = arr.shape as [number, number];
      return Array.from({ length: rows }, (_, r) => Array.from((arr.data as Float32Array).subarray(r * cols, (r + 1) * cols)));
    };
    const classify = async (name: string): Promise<{ logits: number[][]; top: { index: number }[]; embedding?: { dim: number; norm: number }; available: boolean }> => {
      await page.setInputFiles('#image-file', join(FAMILY, name, 'input_nhwc.npy'));
      await idle(page);
      expect(await errorsShown(page)).toEqual([]);
      const r = await page.evaluate(() => {
        const x = window.vitkit.lastResult!;
        return { logits: x.logits, top: x.top, embedding: x.embedding, available: x.attention.available };
      });
      const want = familyLogits(name);
      expect(r.logits.length).toBe(want.length);
      const diff = Math.max(...want.flatMap((row, i) => row.map((v, j) => Math.abs(r.logits[i]![j]! - v))));
      console.log(`[web-demo] ${name}: max |output - timm| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(LOGIT_TOLERANCE);
      return r;
    };

    // A classifier from the file input: DeiT distilled (the mean of head and head_dist, 5 classes).
    await page.setInputFiles('#model-files', [join(FAMILY, 'deit-distilled', 'timm.safetensors'), join(FAMILY, 'deit-distilled', 'config.json')]);
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    const deit = await classify('deit-distilled');
    const row0 = familyLogits('deit-distilled')[0]!;
    expect(deit.top[0]?.index).toBe(row0.indexOf(Math.max(...row0)));
    expect(deit.top.length).toBe(5);
    expect(deit.embedding).toBeUndefined();
    // CLIP (pre_norm, quick_gelu, 12 classes) the same way.
    await page.setInputFiles('#model-files', [join(FAMILY, 'clip', 'timm.safetensors'), join(FAMILY, 'clip', 'config.json')]);
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    expect(await page.evaluate(() => window.vitkit.model?.numClasses)).toBe(12);
    expect((await classify('clip')).top.length).toBe(5);

    // An embedding model by URL (config.json beside it): SigLIP, MAP pooling, no class token, no classifier.
    await page.fill('#model-url', `${server.url}fixtures/vit-family/siglip/timm.safetensors`);
    await page.press('#model-url', 'Enter');
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    const siglip = await classify('siglip');
    expect(siglip.top).toEqual([]);
    expect(siglip.embedding?.dim).toBe(32);
    expect(await page.textContent('#result-status')).toMatch(/returns embeddings \(32 values\), no labels/);
    expect(await page.locator('#top5 li').count()).toBe(0);
    // The map is drawn with a note saying what it is (not the pooling query's attention).
    expect(siglip.available).toBe(true);
    expect(await page.textContent('#attention-note')).toMatch(/MAP/);

    // hf:// with the endpoint override: DINOv2 with registers (features).
    await page.fill('#model-url', 'hf://vitkit/dinov2-reg');
    await page.press('#model-url', 'Enter');
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    expect(await page.evaluate(() => window.vitkit.model?.numClasses)).toBe(0);
    const dino = await classify('dinov2-reg');
    expect(dino.embedding?.dim).toBe(32);
    expect(await page.isHidden('#attention-note')).toBe(true);
    await screenshot(page, '06-family-embeddings');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('falls back from an unavailable backend, says why, and fits a phone screen', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    // Make WebGPU unavailable: its code cannot be downloaded.
    await page.route('**/tfjs-backend-webgpu-*.js', (route) => route.abort());
    await page.goto(`${server.url}?backend=webgpu`);
    await idle(page);
    // Asked for by name: an error that says why, then the best backend that works.
    const errors = await errorsShown(page);
    expect(errors.map((e) => e.code)).toEqual(['E_BACKEND']);
    expect(errors[0]!.reason).toMatch(/webgpu/);
    expect(await page.inputValue('#backend-select')).toBe('auto');
    const backend = await page.evaluate(() => window.vitkit.backend!);
    expect(backend.name).toBe('webgl');
    expect(backend.skipped.map((s) => s.name)).toEqual(['webgpu']);
    const info = await page.textContent('#backend-info');
    expect(info).toContain('Using webgl');
    expect(info).toMatch(/webgpu unavailable: .+/);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#gallery button[data-label="9"]');
    await idle(page);
    expect((await lastResult(page)).top[0]?.index).toBe(9);
    await screenshot(page, '05-phone');
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('takes dropped model files (.npz with JAX names + config.json), a pasted .npy, and works from the keyboard', async () => {
    const { page, consoleErrors } = await openApp('?backend=cpu');
    const b64 = (name: string): string => readFileSync(fixture(name)).toString('base64');
    // The page's own drop and paste handlers get real File objects, as from the OS.
    await page.evaluate(
      ([npz, config]) => {
        const file = (data: string, name: string): File => new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name);
        const dt = new DataTransfer();
        dt.items.add(file(npz!, 'jax.npz'));
        dt.items.add(file(config!, 'config.json'));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [b64('jax.npz'), b64('hf-config.json')],
    );
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    expect(await page.evaluate(() => window.vitkit.model?.name)).toBe('jax');
    await page.evaluate((npy) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(npy), (c) => c.charCodeAt(0))], 'input_nhwc.npy'));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, b64('input_nhwc.npy'));
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    expect(maxLogitDiff((await lastResult(page)).logits)).toBeLessThan(LOGIT_TOLERANCE);

    // Keyboard only: back to the bundled model, then a sample, with Tab focus and Enter/Space.
    await page.focus('#bundled-model');
    await page.keyboard.press('Enter');
    await idle(page);
    expect(await page.evaluate(() => window.vitkit.model?.name)).toMatch(/Fashion-MNIST/);
    await page.focus('#gallery button[data-label="3"]');
    await page.keyboard.press('Space');
    await idle(page);
    expect((await lastResult(page)).top[0]?.index).toBe(3);
    // The .npy made for vit-micro was not replayed on the new model.
    expect(await errorsShown(page)).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('classifies a webcam frame (Chromium’s synthetic camera)', async () => {
    const { page } = await openApp('?backend=wasm');
    await page.click('#webcam-start');
    await page.waitForFunction(() => (document.getElementById('webcam-video') as HTMLVideoElement).videoWidth > 0);
    await page.click('#webcam-capture');
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    const result = await lastResult(page);
    expect(result.top).toHaveLength(5);
    expect(await page.textContent('#view-caption')).toMatch(/webcam frame: \d+×\d+ → 28×28×1/);
    await page.click('#webcam-stop');
    await page.close();
  });
});

/** fixtures/reference/task-layer: an HF model directory and Pillow + torch outputs for two photos. */
const TASK_REF = join(APP_DIR, '..', '..', 'fixtures', 'reference', 'task-layer');
const TASK_MODEL = ['model.safetensors', 'config.json', 'preprocessor_config.json'].map((f) => join(TASK_REF, 'model', f));
const PHOTOS = [join(APP_DIR, '..', '..', 'fixtures', 'reference', 'preprocess-chelsea', 'chelsea.png'), join(TASK_REF, 'chelsea_crop.jpg')];
const TASK_EXPECTED = JSON.parse(readFileSync(join(TASK_REF, 'expected.json'), 'utf8')) as { images: { file: string; logits: number[]; probabilities: number[]; features: number[] }[] };
const COMPARE_SHOTS = join(APP_DIR, 'docs', 'screenshots');

function unit(v: readonly number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function lastCompare(page: Page): Promise<{ names: string[]; matrix: number[][]; neighbours: { index: number; similarity: number }[]; embeddings: number[][]; backend: string }> {
  return page.evaluate(() => {
    const r = window.vitkit.lastCompare!;
    return { names: r.names, matrix: r.matrix, neighbours: r.neighbours, embeddings: r.embeddings, backend: r.backend };
  });
}

/** Diagonal 1, symmetric, and each entry the cosine similarity of the two vectors Node computed, within `tol`. */
function checkMatrix(matrix: number[][], vectors: readonly ArrayLike<number>[], tol: number): number {
  let worst = 0;
  expect(matrix.length).toBe(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    expect(Math.abs(matrix[i]![i]! - 1)).toBeLessThan(1e-6);
    for (let j = 0; j < vectors.length; j++) {
      expect(matrix[i]![j]).toBe(matrix[j]![i]);
      worst = Math.max(worst, Math.abs(matrix[i]![j]! - cosineSimilarity(vectors[i]!, vectors[j]!)));
    }
  }
  expect(worst).toBeLessThan(tol);
  return worst;
}

describe('the task layer in Chromium (through the demo worker)', () => {
  for (const backend of ['wasm', 'webgl', 'webgpu'] as const) {
    it(`classifies and embeds a PNG and a JPEG as Pillow + torch do on ${backend} (1e-4)`, async () => {
      const { page, consoleErrors } = await openApp(`?backend=${backend}`);
      expect(await page.evaluate(() => window.vitkit.backend?.name)).toBe(backend);
      await page.setInputFiles('#model-files', TASK_MODEL);
      await idle(page);
      expect(await errorsShown(page)).toEqual([]);
      expect(await page.evaluate(() => window.vitkit.model?.preprocess)).toBe('preprocessor_config.json');

      // Classify: the task layer decodes (libjpeg-turbo wasm for the JPEG), preprocesses and ranks.
      for (const [i, photo] of PHOTOS.entries()) {
        await page.setInputFiles('#image-file', photo);
        await idle(page);
        expect(await errorsShown(page)).toEqual([]);
        const r = await page.evaluate(() => ({ logits: window.vitkit.lastResult!.logits, top: window.vitkit.lastResult!.top, backend: window.vitkit.lastResult!.backend }));
        expect(r.backend).toBe(backend);
        const ref = TASK_EXPECTED.images[i]!;
        const dl = Math.max(...r.logits[0]!.map((v, j) => Math.abs(v - ref.logits[j]!)));
        const dp = Math.max(...r.top.map((t) => Math.abs(t.probability - ref.probabilities[t.index]!)));
        console.log(`[tasks] ${backend} ${ref.file}: max |logit - torch| = ${dl.toExponential(2)}, max |p - torch| = ${dp.toExponential(2)}`);
        expect(dl).toBeLessThan(1e-4);
        expect(dp).toBeLessThan(1e-4);
        expect(r.top[0]!.index).toBe(ref.probabilities.indexOf(Math.max(...ref.probabilities)));
      }

      // Embed (compare mode): unit-length pre-logits features of both photos, and their similarity.
      await page.setInputFiles('#compare-files', PHOTOS);
      await idle(page);
      expect(await errorsShown(page)).toEqual([]);
      const c = await lastCompare(page);
      expect(c.backend).toBe(backend);
      expect(c.names).toEqual(['chelsea.png', 'chelsea_crop.jpg']);
      const de = Math.max(...c.embeddings.flatMap((v, i) => unit(TASK_EXPECTED.images[i]!.features).map((w, j) => Math.abs(v[j]! - w))));
      console.log(`[tasks] ${backend} embeddings: max |v - torch| = ${de.toExponential(2)}`);
      expect(de).toBeLessThan(1e-4);
      checkMatrix(c.matrix, TASK_EXPECTED.images.map((im) => im.features), 1e-4);
      expect(c.neighbours.map((n) => n.index)).toEqual([1, 0]);
      expect(consoleErrors).toEqual([]);
      await page.close();
    });
  }

  it('compare mode: the bundled samples’ similarity matrix equals Node’s cosineSimilarity of the same images; screenshot', async () => {
    await setupBackend('cpu');
    const embedder = await loadImageEmbedder(join(APP_DIR, 'public', 'models', 'fashion-mnist'), { cache: false });
    const files = SAMPLES.samples.map((s) => join(APP_DIR, 'public', 'samples', s.file));
    const node = await embedder.embed(files);
    embedder.dispose();

    const { page, consoleErrors } = await openApp('?backend=wasm');
    await page.click('#compare-samples');
    await idle(page);
    expect(await errorsShown(page)).toEqual([]);
    const c = await lastCompare(page);
    expect(c.names).toEqual(SAMPLES.samples.map((s) => s.className));
    const worst = checkMatrix(c.matrix, node, 1e-4);
    console.log(`[compare] ${c.names.length} samples: max |similarity - Node| = ${worst.toExponential(2)}`);
    // Nearest neighbours: the most similar other sample, as Node's numbers rank them.
    for (const [i, n] of c.neighbours.entries()) {
      const others = node.map((v, j) => (j === i ? -Infinity : cosineSimilarity(node[i]!, v)));
      expect(n.index, `neighbour of ${c.names[i]}`).toBe(others.indexOf(Math.max(...others)));
    }
    // The page shows it: one row per image with a thumbnail, and one neighbour line per image.
    expect(await page.locator('#similarity tbody tr').count()).toBe(c.names.length);
    expect(await page.locator('#similarity tbody tr:first-child img').count()).toBe(1);
    expect(await page.locator('#neighbours li').count()).toBe(c.names.length);
    mkdirSync(COMPARE_SHOTS, { recursive: true });
    await page.locator('#compare').screenshot({ path: join(COMPARE_SHOTS, 'compare.png') });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
