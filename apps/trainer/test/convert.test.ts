// Spawns `vit convert` and checks the files it writes against the reference fixtures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '@vitkit/weights';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const MICRO = join(ROOT, 'fixtures/reference/vit-micro');

function vit(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts', 'convert', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'vit-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('vit convert', () => {
  it('jax.npz -> hf -> timm reproduces the reference files bit for bit', () => {
    const hfOut = join(tmp, 'hf', 'model.safetensors');
    const toHf = vit(join(MICRO, 'jax.npz'), '--to', 'hf', '--out', hfOut);
    expect(toHf.stderr).toBe('');
    expect(toHf.code).toBe(0);
    expect(toHf.stdout).toMatch(/converted jax \(npz\) -> hf: wrote model\.safetensors and config\.json/);
    expect(readFileSync(hfOut).equals(readFileSync(join(MICRO, 'hf.safetensors')))).toBe(true);
    const config = JSON.parse(readFileSync(join(tmp, 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'vit', hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 64, image_size: 32, patch_size: 8 });

    // Back to timm: the head count comes from the config.json written beside the weights.
    const timmOut = join(tmp, 'timm.safetensors');
    const toTimm = vit(hfOut, '--to', 'timm', '--out', timmOut);
    expect(toTimm.code).toBe(0);
    const reference = readFileSync(join(MICRO, 'timm.safetensors'));
    expect(readFileSync(timmOut).equals(reference)).toBe(true);
    const a = parseSafetensors(new Uint8Array(readFileSync(timmOut))).tensors;
    const b = parseSafetensors(new Uint8Array(reference)).tensors;
    for (const [k, t] of b) expect(Buffer.from(a.get(k)!.data.buffer, a.get(k)!.data.byteOffset, a.get(k)!.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]); // atomic writes leave no temporaries
  });

  it('fails in one line, writing nothing, when the head count is unknown or flags are wrong', () => {
    const out = join(tmp, 'x.npz');
    const noHeads = vit(join(MICRO, 'timm.safetensors'), '--to', 'jax', '--out', out);
    expect(noHeads.code).toBe(1);
    expect(noHeads.stderr.trim().split('\n')).toHaveLength(1);
    expect(noHeads.stderr).toMatch(/^vit convert: error: .*numHeads.*--num-heads/);
    expect(existsSync(out)).toBe(false);
    const noTo = vit(join(MICRO, 'timm.safetensors'), '--out', out);
    expect(noTo.code).toBe(1);
    expect(noTo.stderr).toMatch(/--to is required/);
    const bad = vit(join(MICRO, 'manifest.json'), '--to', 'timm', '--out', join(tmp, 'y.safetensors'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^vit convert: error: /);
  });
});
