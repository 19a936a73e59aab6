// `vit train` refusing what would hang, allocate without bound or lose data:
// sizes beyond the backend's limits, class counts no label set means, an --out
// that holds a run, --steps behind a resumed run, divergence, /proc outputs,
// and negative flag values reaching their own checks. One line each.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeNpy } from '@vitkit/core';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const CLI = ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts', 'train'];
const tmp = mkdtempSync(join(tmpdir(), 'vit-refusals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vit(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, exit 1, matching `pattern`. */
function refused(args: string[], pattern: RegExp): void {
  const r = vit(args);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.code).toBe(1);
}

/** A tiny float32 npy dataset: 32 images 8x8x1, with these labels (cycled). */
function npyData(name: string, labels: number[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const x = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.sin(i) * 0.5);
  writeFileSync(join(dir, 'input_nhwc.npy'), serializeNpy({ shape: [32, 8, 8, 1], dtype: 'float32', data: x }));
  writeFileSync(join(dir, 'labels.npy'), serializeNpy({ shape: [32], dtype: 'int32', data: Int32Array.from({ length: 32 }, (_, i) => labels[i % labels.length]!) }));
  return dir;
}

const config = join(tmp, 'tiny.json');
writeFileSync(config, JSON.stringify({ imageSize: 8, patchSize: 4, inChannels: 1, embedDim: 8, depth: 1, numHeads: 2, mlpDim: 16 }));

describe('vit train refuses', () => {
  it('sizes beyond the backend, class counts no labels mean, negative values, /proc outputs: each with its own line', () => {
    refused(['--lr', '-1'], /--lr must be >= 0, got -1/);
    refused(['--num-classes', '100000000'], /--num-classes 100000000 is above the limit of 67108864 classes/);
    refused(['--image-size', '100000'], /--image-size 100000 is above the limit of 13377 pixels/);
    const stray = npyData('stray', [0, 1, 2, 3, 1_000_000]);
    refused(['--data', stray, '--config', config, '--steps', '1'], /labels go up to 1000000, so the model would have 1000001 classes, but only 5 of them have samples — pass --num-classes/);
    refused(['--data', npyData('one-class', [0]), '--config', config, '--steps', '1'], /every label is 0, one class; a classifier needs at least two/);
    const started = Date.now();
    refused(['--data', npyData('proc', [0, 1]), '--config', config, '--steps', '1', '--batch-size', '8', '--out', '/proc/vitkit-run/out'], /cannot create directory \/proc\/vitkit-run: ENOENT — choose a directory you can write to/);
    expect(Date.now() - started).toBeLessThan(150_000);
  });

  it('an --out that holds a run without --resume or --overwrite, and --steps behind a resumed run', () => {
    const data = npyData('runs', [0, 1, 2, 3]);
    const out = join(tmp, 'run');
    const common = ['--data', data, '--config', config, '--batch-size', '8', '--val-split', '0', '--json'];
    expect(vit([...common, '--steps', '4', '--out', out]).code).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const model = readFileSync(join(out, 'model.safetensors'));
    refused([...common, '--steps', '2', '--out', out], new RegExp(`--out ${out} already holds a run \\(metrics.jsonl, .*model.safetensors.*\\) — continue it with --resume ${out}, or start over with --overwrite`));
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    expect(readFileSync(join(out, 'model.safetensors')).equals(model)).toBe(true);
    refused(['--resume', out, '--steps', '2'], /--steps 2 is below the step the run is at \(4\) — give --steps above 4/);
    refused(['--resume', out, '--overwrite'], /--overwrite and --resume contradict each other/);
    // Starting over is said on stderr, even with --json.
    const over = vit([...common, '--steps', '2', '--out', out, '--overwrite']);
    expect(over.code, over.stderr).toBe(0);
    expect(over.stderr).toMatch(new RegExp(`--overwrite: deleting the earlier run in ${out} .* and starting over`));
    expect(JSON.parse(over.stdout)).toMatchObject({ step: 2 });
  });

  it('a diverging run: exit 1 at the step, with a hint, and the last finite checkpoint kept', () => {
    const data = npyData('diverge', [0, 1, 2, 3]);
    const out = join(tmp, 'diverged');
    const r = vit(['--data', data, '--config', config, '--batch-size', '8', '--val-split', '0', '--steps', '8', '--lr', '1e30', '--warmup', '0', '--schedule', 'constant', '--checkpoint-every', '1', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const m = /training diverged at step (\d+): the (loss|gradient norm) is (NaN|-?Infinity) — lower --lr \(it is 1e\+30\); the last checkpoint in .* is kept/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const step = Number(m![1]);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8')) as { state: { step: number } };
    expect(state.state.step).toBe(step - 1);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });
});
