// onnxruntime-node for the comparison benchmark. It is not a dependency of
// any workspace package (it is ~300 MB with its native libraries): it lives
// in bench/onnx/, outside the pnpm workspace, and is installed there on first
// use with the plain npm client.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VitkitError } from '@vitkit/core';

/** bench/onnx/ at the repository root. */
export const ONNX_BENCH_DIR = fileURLToPath(new URL('../../../../../bench/onnx/', import.meta.url));

/** The parts of onnxruntime-node's API the benchmark uses. */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

export interface OrtSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: 'sequential';
  graphOptimizationLevel: 'all';
  executionProviders: string[];
}

export interface OnnxRuntime {
  InferenceSession: { create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  env: { versions?: { common?: string } };
}

/** onnxruntime-node is missing and could not be installed. */
export class OnnxRuntimeUnavailableError extends VitkitError {
  constructor(reason: string, hint: string) {
    super('E_ONNXRUNTIME', reason, hint);
  }
}

function requireFromBench(): OnnxRuntime {
  return createRequire(`${ONNX_BENCH_DIR}package.json`)('onnxruntime-node') as OnnxRuntime;
}

function installed(): boolean {
  return existsSync(`${ONNX_BENCH_DIR}node_modules/onnxruntime-node/package.json`);
}

/**
 * Loads onnxruntime-node from bench/onnx/, running `npm install --prefix
 * bench/onnx` first when it is not there (unless `install` is false). Its
 * postinstall step would fetch optional CUDA libraries from NuGet; the CPU
 * libraries ship in the npm package, so that step is skipped
 * (ONNXRUNTIME_NODE_INSTALL=skip) and only the npm registry is needed.
 */
export function loadOnnxRuntime(options: { install?: boolean; log?: (line: string) => void } = {}): OnnxRuntime {
  if (!installed()) {
    if (options.install === false) {
      throw new OnnxRuntimeUnavailableError('onnxruntime-node is not installed in bench/onnx', 'run: npm install --prefix bench/onnx');
    }
    options.log?.('installing onnxruntime-node into bench/onnx (npm install --prefix bench/onnx) ...');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['install', '--prefix', ONNX_BENCH_DIR, '--no-audit', '--no-fund', '--no-package-lock'], {
      encoding: 'utf8',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status !== 0 || !installed()) {
      const detail = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-1)[0] ?? 'unknown error';
      throw new OnnxRuntimeUnavailableError(`could not install onnxruntime-node: ${detail}`, 'check network access to the npm registry, or run: npm install --prefix bench/onnx');
    }
  }
  try {
    return requireFromBench();
  } catch (e) {
    throw new OnnxRuntimeUnavailableError(
      `onnxruntime-node failed to load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      'reinstall it: rm -rf bench/onnx/node_modules && npm install --prefix bench/onnx',
    );
  }
}
