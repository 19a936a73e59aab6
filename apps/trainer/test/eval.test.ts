// Spawns `vit eval` on a run made by `vit train` and on the reference fixture.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeNpy } from '@vitkit/core';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const tmp = mkdtempSync(join(tmpdir(), 'vit-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vit(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('vit eval', () => {
  it('prints the same test accuracy as the run that trained the model', () => {
    const config = join(tmp, 'tiny.json');
    writeFileSync(config, JSON.stringify({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 1, numHeads: 2, mlpDim: 32, numClasses: 10 }));
    const out = join(tmp, 'run');
    expect(vit(['train', '--config', config, '--steps', '20', '--batch-size', '32', '--tta', 'flip', '--out', out]).code).toBe(0);
    type TestRecord = { type: string; accuracy?: number; count?: number; tta?: string; tta_accuracy?: number; tta_loss?: number };
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TestRecord);
    const test = metrics.find((m) => m.type === 'test')!;
    expect(test.count).toBe(2000);

    const r = vit(['eval', '--weights', join(out, 'model.safetensors'), '--config', join(out, 'config.json'), '--data', 'data/fashion-mnist-subset', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { accuracy: number; count: number; split: string };
    expect(result).toMatchObject({ count: 2000, split: 'test' });
    expect(result.accuracy).toBe(test.accuracy);
    // A run directory works as --weights too (config.json beside the weights).
    expect(JSON.parse(vit(['eval', '--weights', out, '--json']).stdout).accuracy).toBe(test.accuracy);

    // --tta flip: the run's own flipped-view test result, reproduced by eval.
    expect(test.tta).toBe('flip');
    const flipped = JSON.parse(vit(['eval', '--weights', out, '--tta', 'flip', '--json']).stdout) as { accuracy: number; loss: number; tta: string };
    expect(flipped.tta).toBe('flip');
    expect(flipped.accuracy).toBe(test.tta_accuracy);
    expect(Math.abs(flipped.loss - test.tta_loss!)).toBeLessThan(1e-6);
  });

  it('scores the run\'s held-out validation images (--split val) and reproduces its flip-zoom test result', () => {
    const config = join(tmp, 'tiny.json');
    const out = join(tmp, 'run-val');
    // A non-default seed and split, so that eval must read them from the run to pick the same images.
    const trained = vit(['train', '--config', config, '--epochs', '1', '--batch-size', '64', '--val-split', '0.9', '--seed', '3', '--tta', 'flip-zoom', '--out', out]);
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    type Record = { type: string; accuracy?: number; val_loss?: number; tta?: string; tta_accuracy?: number; tta_loss?: number };
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record);
    const epoch = metrics.find((m) => m.type === 'epoch')!;
    const test = metrics.find((m) => m.type === 'test')!;
    const trainCount = (JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8')) as { data: { count: number } }).data.count;
    const whole = JSON.parse(vit(['eval', '--weights', out, '--split', 'train', '--json']).stdout) as { count: number };

    const val = JSON.parse(vit(['eval', '--weights', out, '--split', 'val', '--json']).stdout) as { accuracy: number; loss: number; count: number; split: string };
    expect(val.split).toBe('val');
    expect(val.count).toBe(whole.count - trainCount);
    expect(val.accuracy).toBe(epoch.accuracy);
    expect(Math.abs(val.loss - epoch.val_loss!)).toBeLessThan(1e-6);

    // --tta flip-zoom: vit train's zoom (sqrt of the default crop scale 0.85) is eval's default.
    expect(test.tta).toBe('flip-zoom');
    const zoomed = JSON.parse(vit(['eval', '--weights', out, '--tta', 'flip-zoom', '--json']).stdout) as { accuracy: number; loss: number; zoom: number };
    expect(zoomed.zoom).toBeCloseTo(Math.sqrt(0.85), 12);
    expect(zoomed.accuracy).toBe(test.tta_accuracy);
    expect(Math.abs(zoomed.loss - test.tta_loss!)).toBeLessThan(1e-6);
    // A different zoom is a different set of views.
    const wider = JSON.parse(vit(['eval', '--weights', out, '--tta', 'flip-zoom', '--tta-zoom', '0.7', '--json']).stdout) as { loss: number; zoom: number };
    expect(wider.zoom).toBe(0.7);
    expect(Math.abs(wider.loss - zoomed.loss)).toBeGreaterThan(1e-4);
  });

  it('takes --split val\'s images from the run\'s own --data when no --data is given', () => {
    // 120 random uint8 images in an .npy pair (no test split), not the default subset.
    const pair = join(tmp, 'pair');
    mkdirSync(pair, { recursive: true });
    let seed = 1;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const images = Uint8Array.from({ length: 120 * 28 * 28 }, () => Math.floor(next() * 256));
    const labels = Int32Array.from({ length: 120 }, (_, i) => i % 10);
    writeFileSync(join(pair, 'input_nhwc.npy'), serializeNpy({ shape: [120, 28, 28, 1], dtype: 'uint8', data: images }));
    writeFileSync(join(pair, 'labels.npy'), serializeNpy({ shape: [120], dtype: 'int32', data: labels }));
    const out = join(tmp, 'run-pair');
    const trained = vit(['train', '--data', pair, '--config', join(tmp, 'tiny.json'), '--epochs', '1', '--batch-size', '16', '--val-split', '0.25', '--out', out]);
    expect(trained.code).toBe(0);
    const epoch = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; accuracy?: number }).find((m) => m.type === 'epoch')!;
    const val = JSON.parse(vit(['eval', '--weights', out, '--split', 'val', '--json']).stdout) as { accuracy: number; count: number };
    expect(val.count).toBe(30);
    expect(val.accuracy).toBe(epoch.accuracy);
  });

  it('refuses --split val in one line when no vit train run lies beside the weights', () => {
    const bare = join(tmp, 'bare');
    mkdirSync(bare, { recursive: true });
    for (const f of ['model.safetensors', 'config.json']) copyFileSync(join(tmp, 'run', f), join(bare, f));
    const r = vit(['eval', '--weights', join(bare, 'model.safetensors'), '--split', 'val', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--split val needs the vit train run/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const zero = vit(['eval', '--weights', join(tmp, 'run'), '--tta', 'flip-zoom', '--tta-zoom', '0', '--json']);
    expect(zero.code).toBe(1);
    expect(zero.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects an unknown --tta in one line', () => {
    const r = vit(['eval', '--weights', join(tmp, 'run'), '--tta', 'rotate', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--tta must be one of none, flip/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('fails in one line on a missing checkpoint', () => {
    const r = vit(['eval', '--weights', join(tmp, 'nope.safetensors'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses data the model cannot have been trained on, and prints file names with escapes as text', () => {
    // The web demo's Fashion-MNIST model: 28x28, 1 channel, 10 classes. The data: 3 channels, 4 classes.
    const model = join(ROOT, 'apps/web-demo/public/models/fashion-mnist');
    const rgb = join(tmp, 'rgb-4-classes');
    mkdirSync(rgb);
    writeFileSync(join(rgb, 'input_nhwc.npy'), serializeNpy({ shape: [8, 28, 28, 3], dtype: 'uint8', data: new Uint8Array(8 * 28 * 28 * 3).fill(100) }));
    writeFileSync(join(rgb, 'labels.npy'), serializeNpy({ shape: [8], dtype: 'int32', data: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]) }));
    const r = vit(['eval', '--weights', model, '--data', rgb, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/the data has 3-channel images but the model takes 1 channel — evaluate on data like the data the model was trained on \(--data\)/);
    const escaped = vit(['eval', '--weights', model, '--data', join(tmp, 'red\u001b[31mname'), '--json']);
    expect(escaped.code).toBe(1);
    expect(escaped.stderr).not.toContain('\u001b');
    expect(escaped.stderr).toContain('red\\u001b[31mname');
  });
});
