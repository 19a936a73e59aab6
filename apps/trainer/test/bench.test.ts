// Spawns `vit bench` on a small configuration and checks what it reports.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

function vit(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts', 'bench', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('vit bench', () => {
  it('measures a preset on wasm and prints consistent JSON figures', () => {
    const r = vit('--preset', 'vit_tiny_patch16_224', '--batch', '2', '--backend', 'wasm', '--runs', '1', '--warmup', '0', '--no-train', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { results } = JSON.parse(r.stdout) as { results: Record<string, number | string>[] };
    expect(results).toHaveLength(1);
    const row = results[0]!;
    expect(row).toMatchObject({ mode: 'inference', preset: 'vit_tiny_patch16_224', backend: 'wasm', batch: 2 });
    const ms = row['median_ms'] as number;
    expect(ms).toBeGreaterThan(0);
    // img/s and GFLOP/s follow from the latency: 2 images; ViT-Ti/16 is 2.5 GFLOP per image.
    expect(row['img_per_s']).toBeCloseTo(2000 / ms, 0);
    expect((row['gflops'] as number) * ms).toBeGreaterThan(2 * 2.4e3);
    expect((row['gflops'] as number) * ms).toBeLessThan(2 * 2.7e3);
    expect(row['peak_rss_mb']).toBeGreaterThan(50);
    expect(typeof row['load_1m']).toBe('number');
    expect(row['wasm_matmul']).toBe('simd');
  });

  it('--wasm-matmul stock,simd measures training of a --train-config model with each BatchMatMul kernel', () => {
    const config = 'packages/training/recipes/fashion-mnist-full.json';
    const r = vit('--backend', 'wasm', '--wasm-matmul', 'stock,simd', '--preset', 'vit_tiny_patch16_224', '--batch', '1', '--runs', '2', '--warmup', '1', '--train-config', config, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { results } = JSON.parse(r.stdout) as { results: Record<string, number | string>[] };
    const train = results.filter((row) => row['mode'] === 'train');
    expect(train.map((row) => row['wasm_matmul'])).toEqual(['stock', 'simd']);
    for (const row of train) {
      expect(row['preset']).toBe('fashion-mnist-full.json (28x28x1, patch 7, dim 96, depth 6)');
      expect(row['batch']).toBe(128);
      expect(row['img_per_s']).toBeGreaterThan(0);
    }
  });

  it('rejects bad flags with one line and a non-zero exit code', () => {
    const preset = vit('--preset', 'vit_nope');
    expect(preset.code).not.toBe(0);
    expect(preset.stderr).toMatch(/unknown preset "vit_nope"/);
    const backend = vit('--compare-onnx', '--backend', 'cpu');
    expect(backend.code).not.toBe(0);
    expect(backend.stderr).toMatch(/--compare-onnx measures vitkit on the wasm backend only/);
    const matmul = vit('--wasm-matmul', 'fast');
    expect(matmul.code).not.toBe(0);
    expect(matmul.stderr).toMatch(/unknown --wasm-matmul "fast"/);
    const config = vit('--train-config', 'no/such/config.json');
    expect(config.code).not.toBe(0);
    expect(config.stderr).toMatch(/--config no\/such\/config.json is neither a file nor a preset/);
  });
});
