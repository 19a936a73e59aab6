// Pick-and-mix is real: pack every library package as npm would publish it,
// then install ONE of them (with only the @vitkit packages it depends on,
// tfjs-core and a backend) into a scratch project and run it there.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAll, root, scratchProject as scratch } from './support/pack.js';

let tarballs = new Map<string, string>();
let work = '';

const scratchProject = (pkg: string, script: string): string => scratch(work, tarballs, pkg, { 'main.mjs': script });

beforeAll(() => {
  ({ work, tarballs } = packAll());
  cpSync(join(root, 'fixtures', 'reference', 'vit-micro'), join(work, 'vit-micro'), { recursive: true });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed packages install a la carte', () => {
  it('packs only dist, README, LICENSE and package.json: workspace ranges replaced, no source condition, publish metadata', () => {
    const listing = execFileSync('tar', ['-tzf', tarballs.get('@vitkit/vit')!], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/README.md');
    expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false);
    expect(listing).toContain('package/LICENSE');
    for (const [name, tarball] of tarballs) {
      const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
      expect(JSON.stringify(manifest), name).not.toContain('workspace:');
      // The source condition points at src/, which is not shipped.
      expect(JSON.stringify(manifest.exports), name).not.toContain('@vitkit/source');
      expect(manifest.license, name).toBe('MIT');
      expect(manifest.engines?.node, name).toBeTruthy();
      expect(manifest.repository?.directory, name).toMatch(/^packages\//);
    }
  });

  it('@vitkit/core alone sets up the wasm backend and reads npy', () => {
    const dir = scratchProject(
      '@vitkit/core',
      `import { setupBackend, parseNpy, presetConfig } from '@vitkit/core';
       import { readFileSync } from 'node:fs';
       const b = await setupBackend('auto');
       const a = parseNpy(readFileSync(${JSON.stringify(join(work, 'vit-micro', 'expected_logits.npy'))}));
       console.log(JSON.stringify({ backend: b.name, shape: a.shape, embed: presetConfig('vit_base_patch16_224').embedDim }));`,
    );
    const out = JSON.parse(execFileSync('node', ['main.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!);
    expect(out).toEqual({ backend: 'wasm', shape: [2, 10], embed: 768 });
    expect(existsSync(join(dir, 'node_modules', '@vitkit', 'weights'))).toBe(false);
  });

  it('@vitkit/vit with its dependencies reproduces the reference logits', () => {
    const dir = scratchProject(
      '@vitkit/vit',
      `import * as tf from '@tensorflow/tfjs-core';
       import { setupBackend, parseNpy } from '@vitkit/core';
       import { loadViT } from '@vitkit/vit';
       import { readFileSync } from 'node:fs';
       await setupBackend('wasm');
       const dir = ${JSON.stringify(join(work, 'vit-micro'))};
       const model = await loadViT(dir + '/timm.safetensors', { config: dir + '/hf-config.json' });
       const x = parseNpy(readFileSync(dir + '/input_nhwc.npy'));
       const logits = model.predict(tf.tensor(x.data, x.shape));
       const expected = parseNpy(readFileSync(dir + '/expected_logits.npy')).data;
       const got = logits.dataSync();
       let maxDiff = 0;
       for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
       console.log(JSON.stringify({ maxDiff }));`,
    );
    const out = JSON.parse(execFileSync('node', ['main.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!);
    expect(out.maxDiff).toBeLessThan(1e-4);
    expect(existsSync(join(dir, 'node_modules', '@vitkit', 'preprocessing'))).toBe(false);
  });
});
