// Pick-and-mix is real: pack every library package as npm would publish it,
// then install ONE of them (with only the @vitkit packages it depends on,
// tfjs-core and a backend) into a scratch project and run it there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const packagesDir = join(root, 'packages');
const tarballs = new Map<string, string>();
let work = '';

function pnpm(args: string[], cwd: string): string {
  return execFileSync('npx', ['-y', 'pnpm@10', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The @vitkit packages `name` needs at run time, itself included. */
function closure(name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    const dir = n.replace('@vitkit/', '');
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (dep.startsWith('@vitkit/')) visit(dep);
  };
  visit(name);
  return [...seen];
}

function scratchProject(pkg: string, script: string): string {
  const dir = mkdtempSync(join(work, 'app-'));
  const needed = closure(pkg);
  const deps: Record<string, string> = {
    '@tensorflow/tfjs-core': '4.22.0',
    '@tensorflow/tfjs-backend-wasm': '4.22.0',
    [pkg]: `file:${tarballs.get(pkg)}`,
  };
  // Every transitive @vitkit dependency comes from its tarball, never the registry.
  const overrides = Object.fromEntries(needed.map((n) => [n, `file:${tarballs.get(n)}`]));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: deps, overrides }, null, 2));
  writeFileSync(join(dir, 'main.mjs'), script);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' });
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vitkit-pack-'));
  for (const dir of readdirSync(packagesDir)) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    if (!existsSync(join(packagesDir, dir, 'dist', 'index.js'))) {
      throw new Error(`${pkg.name} is not built: run \`npx -y pnpm@10 -r build\` (turbo builds it before this test)`);
    }
    const out = pnpm(['pack', '--pack-destination', work], join(packagesDir, dir)).trim().split('\n');
    tarballs.set(pkg.name, resolve(work, out[out.length - 1]!.trim()));
  }
  cpSync(join(root, 'fixtures', 'reference', 'vit-micro'), join(work, 'vit-micro'), { recursive: true });
});

describe('packed packages install a la carte', () => {
  it('packs only dist, README and package.json, with workspace ranges replaced', () => {
    const listing = execFileSync('tar', ['-tzf', tarballs.get('@vitkit/vit')!], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/README.md');
    expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false);
    const manifest = execFileSync('tar', ['-xzOf', tarballs.get('@vitkit/vit')!, 'package/package.json'], { encoding: 'utf8' });
    expect(manifest).not.toContain('workspace:');
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
