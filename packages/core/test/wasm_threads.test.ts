import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs a script in a fresh Node process (backend init is once per process). */
function runScript(source: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: pkgDir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('multithreaded wasm in Node', () => {
  it('uses the available cores, computes right, and lets the process exit', () => {
    const r = runScript(`
      import * as tf from '@tensorflow/tfjs-core';
      import { setupBackend } from '@vitkit/core';
      const setup = await setupBackend('wasm');
      const a = tf.tensor2d(Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3), [64, 64]);
      const c = tf.matMul(a, a);
      // Reference product on the CPU in plain JS.
      const av = a.dataSync(); let maxDiff = 0; const cv = c.dataSync();
      for (let i = 0; i < 64; i++) for (let j = 0; j < 64; j++) {
        let s = 0; for (let k = 0; k < 64; k++) s += av[i * 64 + k] * av[k * 64 + j];
        maxDiff = Math.max(maxDiff, Math.abs(s - cv[i * 64 + j]));
      }
      console.log(JSON.stringify({ threads: setup.threads, simd: setup.simd, notes: setup.notes, maxDiff }));
    `);
    expect(r.status, r.stderr).toBe(0); // a hang would be killed by the timeout and fail here
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.maxDiff).toBe(0);
    expect(out.threads).toBe(Math.min(8, availableParallelism()));
    expect(out.simd).toBe(true);
    expect(out.notes).toEqual([]);
  });

  it('gives the thread count asked for, not half of it, from the unpatched package', () => {
    const r = runScript(`
      import { createRequire } from 'node:module';
      import { readFileSync } from 'node:fs';
      import { setupBackend } from '@vitkit/core';
      const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
      const setup = await setupBackend('wasm', { wasmThreads: 3 });
      console.log(JSON.stringify({ threads: setup.threads, patched: readFileSync(main, 'utf8').includes('vitkit') }));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ threads: 3, patched: false });
  });

  it('wasmThreads: 1 keeps one thread', () => {
    const r = runScript(`
      import { setupBackend } from '@vitkit/core';
      const setup = await setupBackend('wasm', { wasmThreads: 1 });
      console.log(JSON.stringify({ threads: setup.threads }));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).threads).toBe(1);
  });
});
