import * as tf from '@tensorflow/tfjs-core';

/**
 * Multithreaded wasm in Node.
 *
 * Stock tfjs-backend-wasm runs one thread in Node: its WASM_HAS_MULTITHREAD_SUPPORT
 * flag is false there, and even when forced, it hands its pthread workers
 * `blob:` URLs that worker_threads cannot load. vitkit's workspace carries a
 * small patch of the backend (patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch)
 * that gives the workers file paths instead. When that patched build is
 * installed we switch threads on; otherwise we stay on one thread rather than
 * hang in init.
 */

const PATCH_MARKER = 'vitkitNodeWorkerFile';

interface WasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

interface EmscriptenWorker {
  unref(): void;
}

const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/** True when the installed tfjs-backend-wasm carries the worker-path patch. */
async function hasThreadPatch(): Promise<boolean> {
  try {
    const { createRequire } = (await dynamicImport('node:module')) as typeof import('node:module');
    const { readFileSync } = (await dynamicImport('node:fs')) as typeof import('node:fs');
    for (const base of [import.meta.url, `${process.cwd()}/`]) {
      try {
        const file = createRequire(base).resolve('@tensorflow/tfjs-backend-wasm');
        return readFileSync(file, 'utf8').includes(PATCH_MARKER);
      } catch {
        // not resolvable from here; try the next base
      }
    }
  } catch {
    // not Node
  }
  return false;
}

/** Default thread count: the cores Node may use, at most 8 (the backend's worker pool size). */
async function defaultThreads(): Promise<number> {
  const os = (await dynamicImport('node:os')) as typeof import('node:os');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores));
}

/**
 * Called after the wasm package is imported and before tf.setBackend('wasm').
 * Returns the thread count requested (1 when threads are unavailable).
 */
export async function prepareNodeWasmThreads(wasm: unknown, requested: number | undefined): Promise<number> {
  const module = wasm as Partial<WasmModule>;
  if (typeof module.setThreadsCount !== 'function') return 1;
  const threads = requested ?? (await defaultThreads());
  if (threads <= 1 || !(await hasThreadPatch())) return 1;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  module.setThreadsCount(threads);
  return threads;
}

/** The pthread workers must not keep a finished Node process alive. */
export function unrefWasmWorkers(): void {
  const backend = tf.backend() as unknown as { wasm?: { PThread?: { unusedWorkers?: EmscriptenWorker[]; runningWorkers?: EmscriptenWorker[] } } };
  const pthread = backend.wasm?.PThread;
  if (!pthread) return;
  for (const worker of [...(pthread.unusedWorkers ?? []), ...(pthread.runningWorkers ?? [])]) worker.unref?.();
}

/** Threads the active wasm backend really uses (1 when not threaded or not wasm). */
export function wasmThreadsInUse(wasm: unknown): number {
  try {
    return (wasm as WasmModule).getThreadsCount();
  } catch {
    return 1;
  }
}
