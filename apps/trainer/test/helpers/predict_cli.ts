// Runs `vit predict` in a child process from the repository root, and reads what it saves.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseNpy } from '@vitkit/core';

export const ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

const CLI = ['--conditions=@vitkit/source', '--import', 'tsx', 'apps/trainer/src/cli.ts'];

export function vitPredict(...args: string[]): { code: number; stdout: string; stderr: string } {
  return vitCommand('predict', ...args);
}

/** Runs any `vit` subcommand the same way. */
export function vitCommand(command: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, command, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `vit predict` without blocking this process (a server in it can answer), with extra environment variables. */
export function vitPredictAsync(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'predict', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 300_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A .npy file (absolute, or relative to the current directory). */
export function npy(path: string) {
  return parseNpy(new Uint8Array(readFileSync(path)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
