import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the app with Vite (as `pnpm demo` does) into a fresh temporary directory and returns it. */
export function buildApp(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'vitkit-web-demo-dist-'));
  const vite = join(dirname(createRequire(join(APP_DIR, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
  const run = spawnSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: APP_DIR,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (run.status !== 0) throw new Error(`vite build failed (exit ${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`);
  return outDir;
}
