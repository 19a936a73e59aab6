// `vit bench --compare-torch`: vitkit's training row beside PyTorch's on CPU,
// the same model and step (bench/pytorch_train.py), alternating in one run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VitkitError } from '@vitkit/core';

/** The PyTorch side of the comparison: bench/pytorch_train.py, kept in the repository. */
export const PYTORCH_TRAIN_SCRIPT = fileURLToPath(new URL('../../../../bench/pytorch_train.py', import.meta.url));

/** Debian's python3-torch lives under /usr/bin/python3; VITKIT_PYTHON overrides. */
export function torchPython(): string {
  return process.env['VITKIT_PYTHON'] ?? '/usr/bin/python3';
}

export class TorchUnavailableError extends VitkitError {
  constructor(python: string, detail: string) {
    super('E_BENCH', `PyTorch is not available to ${python}: ${detail}`, 'install python3-torch (apt-get install python3-torch), or point VITKIT_PYTHON at a python with torch');
  }
}

/** One PyTorch measurement (the script's JSON line). */
export interface TorchTraining {
  engine: 'pytorch';
  torch: string;
  threads: number;
  batch: number;
  model: string;
  ms_per_step: number;
  img_per_s: number;
  /** The BLAS library PyTorch loaded (Debian links the system one: reference, OpenBLAS, ...). */
  blas?: string;
}

/** Runs bench/pytorch_train.py once. */
export function measureTorchTraining(options: { threads: number; steps: number; warmup: number; config?: string }): TorchTraining {
  const python = torchPython();
  if (!existsSync(python) && python.includes('/')) throw new TorchUnavailableError(python, 'no such file');
  const args = [PYTORCH_TRAIN_SCRIPT, '--threads', String(options.threads), '--steps', String(options.steps), '--warmup', String(options.warmup)];
  if (options.config !== undefined) args.push('--config', options.config);
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    const detail = `${r.error?.message ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.status}`;
    throw new TorchUnavailableError(python, detail);
  }
  return JSON.parse(line) as TorchTraining;
}

/** vitkit's and PyTorch's training img/s, alternated `rounds` times, and their ratio (vitkit / PyTorch, of the medians). */
export interface TorchComparison {
  model: string;
  threads: number;
  batch: number;
  vitkit_img_per_s: number[];
  pytorch_img_per_s: number[];
  vitkit_median: number;
  pytorch_median: number;
  ratio: number;
  torch: string;
  /** The BLAS PyTorch ran on. */
  blas: string;
  load_before: number;
  load_after: number;
}
