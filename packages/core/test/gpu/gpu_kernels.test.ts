/**
 * vitkit's GPU kernels (src/backends/gpu: VitkitLayerNorm, VitkitLayerNormGrad,
 * VitkitGelu, VitkitGeluGrad on webgl and webgpu) in headless Chromium, on
 * SwiftShader: parity with the cpu kernels, gradients through tf.grads vs the
 * composite tfjs ops, no tensor or buffer growth over repeated calls, and
 * fewer shader launches. page.ts measures, this file asserts and prints a
 * summary (timings are printed, not asserted: SwiftShader is software).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diff, GpuBackend, Report } from './report.js';
import { bundlePage, launchChromium, servePage, type BrowserLike, type PageLike, type PageServer } from './support.js';

let browser: BrowserLike;
let server: PageServer;
let page: PageLike;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  server = await servePage(await bundlePage());
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => window.gpuKernelTest !== undefined, undefined, { timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const fmt = (v: number): string => v.toExponential(1);

/** A line for a group of diffs, and its three closest calls (fraction of tolerance used, where, values). */
function summarize(label: string, diffs: Diff[]): string {
  const sorted = [...diffs].sort((a, b) => b.worst - a.worst);
  const maxAbs = Math.max(...diffs.map((d) => d.maxAbs));
  const closest = sorted
    .slice(0, 3)
    .map((d) => `\n    ${d.worst.toFixed(3)} of ${d.tolerance}: ${d.name} [${d.at[0]}] ${d.at[1]} vs ${d.at[2]}`)
    .join('');
  return `${label}: ${diffs.length} comparisons, max |diff| ${fmt(maxAbs)}; closest to tolerance:${closest}`;
}

/** Every diff within tolerance, each failure named. */
function expectWithin(diffs: Diff[]): void {
  const bad = diffs.filter((d) => !(d.worst <= 1) || d.mismatched > 0);
  expect(bad.map((d) => `${d.name}: worst ${d.worst} (max |diff| ${d.maxAbs}, ${d.mismatched} mismatched; ${d.tolerance})`)).toEqual([]);
}

describe.each(['webgl', 'webgpu'] as GpuBackend[])('GPU kernels on %s', (backend) => {
  let report: Report;

  beforeAll(async () => {
    report = await page.evaluate((b) => window.gpuKernelTest.run(b), backend);
    const lines = [
      `[gpu_kernels] ${backend}: ${report.notes.join('; ')}`,
      summarize('  kernels vs cpu kernels and double-precision GELU', report.kernels),
      summarize('  grads (kernel path)', report.grads),
      summarize('  composite path vs cpu (context)', report.compositeVsCpu),
      ...report.launches.map((l) => `  launches ${l.what}: kernel ${l.kernel}, composite ${l.composite}`),
      ...report.timing.map((t) => `  median ms ${t.what}: kernel ${t.kernelMs.toFixed(1)} (${t.runs[0]} calls), composite ${t.compositeMs.toFixed(1)} (${t.runs[1]} calls)`),
    ];
    console.log(lines.join('\n'));
  });

  it('runs on the backend it names, with the kernels installed only for GPU backends', () => {
    expect(report.active).toBe(backend);
    expect(report.install).toEqual({
      'installGpuKernels(cpu)': false,
      'installGpuKernels(wasm)': false,
      'installGpuKernels(nope)': false,
      [`installGpuKernels(${backend})`]: true,
      [`installGpuKernels(${backend}) again`]: true,
      [`installFusedKernels(${backend})`]: true,
      [`${backend} has all four kernels`]: true,
      [`uninstallGpuKernels(${backend})`]: true,
      [`uninstallGpuKernels(${backend}) again`]: true,
    });
  });

  it('matches the cpu kernels and a double-precision GELU, forward and backward (|a - b| <= 1e-5 + 1e-4 |b|; column sums 1e-5 (1 + sum |terms|))', () => {
    // 9 LayerNorm cases x 6 outputs; 3 forms x (4 inputs x y, dx vs cpu and vs double + the huge |x| vs double only).
    expect(report.kernels.length).toBe(9 * 6 + 3 * (4 * 4 + 2));
    expectWithin(report.kernels);
  });

  it('gives the gradients of sum(w * act(layerNorm(x))) of the cpu kernels and of the composite ops (|a - b| <= 1e-5 + 1e-5 max|b|)', () => {
    expect(report.grads.length).toBe(3 * 3 * 2);
    expectWithin(report.grads);
  });

  it('keeps the tensor and buffer counts flat over repeated calls', () => {
    for (const m of report.memory) {
      expect(m.numTensors[1], m.what).toBe(m.numTensors[0]);
      expect(m.numDataIds[1], m.what).toBe(m.numDataIds[0]);
    }
  });

  it('launches fewer shader programs than the composite ops', () => {
    for (const l of report.launches) expect(l.kernel, l.what).toBeLessThan(l.composite);
  });

  it('logs no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
