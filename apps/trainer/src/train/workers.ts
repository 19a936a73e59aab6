import { availableParallelism } from 'node:os';
import type { FreezeMode } from '@vitkit/training';
import type { WorkerCount } from './options.js';

/**
 * `--workers auto`, the default: data-parallel threads where they pay. On
 * the wasm backend each thread runs a whole forward and backward pass on one
 * core, so the kernels vitkit runs on one thread (LayerNorm, GELU, AdamW,
 * copies) run on every core too: on 2 cores the recipe model trains ~1.4x
 * faster than one process with 2 wasm threads, the default model ~1.1x
 * (docs/experiments/training-speed.md). tfjs-node (native threads) and the
 * cpu backend gain nothing, and frozen or head-warm-up runs train on one
 * thread (the workers compute whole-model gradients).
 */

/** The most threads auto picks: measured on 2 cores only; more split a batch of 128 into small matrix products. */
export const AUTO_WORKERS_MAX = 4;

/** What the auto count depends on, from the run's flags. */
export interface WorkerPlan {
  freeze: FreezeMode;
  headWarmup: number;
  batchSize: number;
}

/** Threads auto asks for before the backend is known: one per core (up to AUTO_WORKERS_MAX and the batch size), or 1. */
export function autoWorkerCount(plan: WorkerPlan, cores: number = availableParallelism()): number {
  if (plan.freeze !== 'none' || plan.headWarmup > 0) return 1;
  return Math.max(1, Math.min(cores, AUTO_WORKERS_MAX, plan.batchSize));
}

/** The thread count to set the backend up for (`planned`), and the one to train with once it is known (`forBackend`). */
export function planWorkers(requested: WorkerCount, plan: WorkerPlan): { planned: number; forBackend(name: string): number } {
  const planned = requested === 'auto' ? autoWorkerCount(plan) : requested;
  return { planned, forBackend: (name) => (requested === 'auto' && name !== 'wasm' ? 1 : planned) };
}
