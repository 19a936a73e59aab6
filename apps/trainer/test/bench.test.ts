// Spawns `vit bench` on a small configuration and checks what it reports.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

  it('--profile lists the kernels of a training step and a forward pass, with totals that add up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vit-bench-profile-'));
    const config = join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 1, numHeads: 2, mlpDim: 32, numClasses: 10 }));
    const r = vit('--profile', '--train-config', config, '--preset', 'vit_tiny_patch16_224', '--batch', '1', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    type Row = { name: string; count: number; ms: number };
    const { profiles } = JSON.parse(r.stdout) as { profiles: { label: string; backend: string; kernel_count: number; kernel_ms: number; unprofiled_ms: number; new_tensors: number; kernels: Row[]; scopes: Row[] }[] };
    expect(profiles.map((p) => p.label)).toEqual(['train step: tiny.json (28x28x1, patch 7, dim 16, depth 1), batch 128', 'forward: vit_tiny_patch16_224, batch 1']);
    for (const p of profiles) {
      expect(p.backend).toBe('wasm');
      expect(p.kernels.length).toBeGreaterThan(5);
      for (const k of p.kernels) expect(k.count).toBeGreaterThan(0);
      expect(p.kernels.reduce((s, k) => s + k.count, 0)).toBe(p.kernel_count);
      expect(p.kernels.reduce((s, k) => s + k.ms, 0)).toBeCloseTo(p.kernel_ms, 6);
      // Slowest first; op scopes (custom-gradient wrappers) are not kernels.
      expect(p.kernels.map((k) => k.ms)).toEqual([...p.kernels.map((k) => k.ms)].sort((a, b) => b - a));
      expect(p.kernels.map((k) => k.name)).not.toContain('fusedMatMul__op');
      expect(p.unprofiled_ms).toBeGreaterThan(0);
      expect(p.new_tensors).toBe(0);
    }
    const [train, forward] = profiles;
    // A training step runs the forward pass's products and their gradients.
    expect(train!.kernels.find((k) => k.name === 'BatchMatMul')!.count).toBeGreaterThan(2);
    // ViT-Ti/16: 12 blocks x 4 linear layers, the patch embedding and the head.
    expect(forward!.kernels.find((k) => k.name === '_FusedMatMul')!.count).toBe(50);
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
