import { Worker } from 'node:worker_threads';
import type { BackendName, ViTConfig } from '@vitkit/core';
import { TrainingConfigError, WorkerError } from '../errors.js';
import type { GradientWorkerData, WorkerMessage } from './gradient_worker.js';
import type { ShardRequest, ShardResult, ShardWorkers } from './shard.js';

export interface GradientWorkerPoolOptions {
  /** Worker threads to start (the main thread computes a shard too, so `workers - 1` for `workers`-way data parallelism). */
  count: number;
  /** The model's architecture (weights arrive with every request). */
  config: ViTConfig;
  /** The backend each worker computes on (the main thread's, normally). */
  backend: BackendName;
  /** wasm threads per worker (default 1: one core each). */
  threads?: number;
}

/**
 * Starts one worker on the entry file beside this one: `.js` from the built
 * package; from source (tsx, vitest) the `.ts` file, through a small
 * bootstrap that registers tsx in the worker first (Node 20 does not carry
 * the parent's `--import tsx` hooks into workers) and with the workspace's
 * source condition.
 */
function spawnWorker(workerData: GradientWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./gradient_worker.js', import.meta.url), { workerData });
  const entry = new URL('./gradient_worker.ts', import.meta.url).href;
  const bootstrap = `(async () => { const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(entry)}); })()
    .catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: 'could not load: ' + (e && e.message) }); });`;
  const execArgv = process.execArgv.filter((a, i, all) => a !== '--import' && all[i - 1] !== '--import' && !a.startsWith('--import='));
  if (!execArgv.some((a) => a.includes('@vitkit/source'))) execArgv.push('--conditions=@vitkit/source');
  return new Worker(bootstrap, { eval: true, workerData, execArgv });
}

interface Slot {
  worker: Worker;
  pending?: { resolve: (r: ShardResult) => void; reject: (e: Error) => void };
  failure?: Error;
}

/**
 * Worker threads that compute shard gradients for data-parallel training
 * (`Trainer`'s `workers` option). Each holds a replica of the model on its
 * own backend; every request carries the current weights, so replicas never
 * drift. One request per worker at a time. `close()` ends the threads.
 */
export class GradientWorkerPool implements ShardWorkers {
  private constructor(private readonly slots: Slot[]) {}

  get count(): number {
    return this.slots.length;
  }

  /** Starts the workers and waits until each has its backend and model ready. */
  static async start(options: GradientWorkerPoolOptions): Promise<GradientWorkerPool> {
    if (!Number.isInteger(options.count) || options.count < 1) throw new TrainingConfigError(`gradient workers must be a positive integer, got ${options.count}`);
    const data: GradientWorkerData = { backend: options.backend, threads: options.threads ?? 1, config: options.config };
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.count; i++) {
      const worker = spawnWorker(data);
      const slot: Slot = { worker };
      slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const fail = (e: Error): void => {
            slot.failure = e;
            reject(e);
            slot.pending?.reject(e);
            slot.pending = undefined;
          };
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') {
              const e = new WorkerError(`gradient worker ${i + 1}: ${m.message}`);
              if (slot.pending) {
                slot.pending.reject(e);
                slot.pending = undefined;
              } else fail(e);
            } else if (slot.pending) {
              const p = slot.pending;
              slot.pending = undefined;
              p.resolve({ loss: m.loss, grads: m.grads });
            }
          });
          worker.on('messageerror', (e) => {
            slot.pending?.reject(new WorkerError(`gradient worker ${i + 1} sent an unreadable reply: ${e.message}`));
            slot.pending = undefined;
          });
          worker.on('error', (e) => fail(new WorkerError(`gradient worker ${i + 1} failed: ${e.message}`)));
          worker.on('exit', (code) => {
            if (!slot.failure) fail(new WorkerError(`gradient worker ${i + 1} exited (code ${code})`));
          });
        }),
      );
    }
    const pool = new GradientWorkerPool(slots);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  compute(index: number, request: ShardRequest): Promise<ShardResult> {
    const slot = this.slots[index];
    if (!slot) return Promise.reject(new WorkerError(`no gradient worker ${index + 1} (the pool has ${this.slots.length})`));
    if (slot.failure) return Promise.reject(slot.failure);
    if (slot.pending) return Promise.reject(new WorkerError(`gradient worker ${index + 1} is busy`));
    return new Promise<ShardResult>((resolve, reject) => {
      // The arrays are moved, not copied: the caller must not reuse them.
      const buffers = [...Object.values(request.params), ...request.batches.flatMap((b) => [b.x, b.targets])].map((a) => a.buffer as ArrayBuffer);
      try {
        slot.worker.postMessage(request, buffers);
      } catch (e) {
        reject(new WorkerError(`could not send the shard to gradient worker ${index + 1}: ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
      slot.pending = { resolve, reject };
    });
  }

  /** Ends the worker threads (pending requests are rejected). */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        s.failure ??= new WorkerError('the gradient worker pool is closed');
        s.pending?.reject(s.failure);
        s.pending = undefined;
        await s.worker.terminate();
      }),
    );
  }
}
