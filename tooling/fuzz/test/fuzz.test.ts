import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TargetReport } from '../src/run.js';

/**
 * The same runner as `pnpm fuzz`, with 200 cases per parser: every case ends
 * in a typed error or a result, within the runner's time and memory limits.
 */
const CASES = 200;

describe('pnpm fuzz (short run)', () => {
  it(`${CASES} mutated files per parser: typed errors or results only`, () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const run = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', '--max-old-space-size=1024', 'src/cli.ts', '--cases', String(CASES), '--json'], { cwd, encoding: 'utf8', timeout: 300_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { reports: TargetReport[]; maxRssMb: number };
    expect(out.reports.map((r) => r.target)).toEqual(['safetensors', 'npz', 'npy', 'idx', 'cifar', 'png', 'jpeg', 'gif', 'webp', 'hf-config', 'preprocess-config']);
    for (const r of out.reports) {
      expect(r.failures, r.target).toEqual([]);
      expect(r.cases, r.target).toBe(CASES);
      expect(r.ok + r.typed, r.target).toBe(CASES);
      // Both outcomes occur, or the target exercises nothing.
      expect(r.ok, r.target).toBeGreaterThan(0);
      expect(r.typed, r.target).toBeGreaterThan(0);
    }
    expect(out.maxRssMb).toBeLessThan(1536);
    expect(run.status).toBe(0);
  });
});
