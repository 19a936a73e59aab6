// Spawns `vit preprocess` on the reference image and compares what it writes
// with the Python fixtures (fixtures/reference/preprocess-chelsea).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy } from '@vitkit/core';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const REF = 'fixtures/reference/preprocess-chelsea';
const IMAGE = `${REF}/chelsea.png`;

function vit(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts', 'preprocess', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const npy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)));

/** Max difference in pixel levels: (x * std + mean) * 255, with one std for all channels. */
function maxLevelDiff(a: ArrayLike<number>, b: ArrayLike<number>, std: number): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) * std * 255);
  return m;
}

const tmp = mkdtempSync(join(tmpdir(), 'vit-preprocess-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('vit preprocess', () => {
  it('--preset timm writes the timm reference [224, 224, 3] and leaves no temp file', () => {
    const out = join(tmp, 'timm.npy');
    const r = vit(IMAGE, '--preset', 'timm', '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out, shape: [224, 224, 3] });
    const got = npy(out);
    expect(got.shape).toEqual([224, 224, 3]);
    expect(got.dtype).toBe('float32');
    expect(maxLevelDiff(got.data, npy(join(ROOT, REF, 'timm_vit_224.npy')).data, 0.5)).toBeLessThanOrEqual(1);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--config reads a Hugging Face preprocessor_config.json', () => {
    const cfgPath = join(tmp, 'preprocessor_config.json');
    writeFileSync(cfgPath, JSON.stringify({ image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: 224, width: 224 }, resample: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }));
    const out = join(tmp, 'hf.npy');
    const r = vit(IMAGE, '--config', cfgPath, '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*hf\.npy: \[224, 224, 3\] float32 from a 451x300 PNG/);
    expect(maxLevelDiff(npy(out).data, npy(join(ROOT, REF, 'hf_vit_224.npy')).data, 0.5)).toBeLessThanOrEqual(1);
  });

  it('bad input is a one-line error with exit code 1', () => {
    const notImage = vit('package.json', '--preset', 'hf', '--out', join(tmp, 'x.npy'));
    expect(notImage.code).toBe(1);
    expect(notImage.stderr).toMatch(/^vit preprocess: error: not an image/);
    const noPreset = vit(IMAGE, '--out', join(tmp, 'x.npy'));
    expect(noPreset.code).toBe(1);
    expect(noPreset.stderr).toMatch(/give --preset or --config/);
    const tooBig = vit(IMAGE, '--preset', 'hf', '--out', join(tmp, 'x.npy'), '--max-pixels', '1000');
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/more than the limit of 1000/);
  });
});
