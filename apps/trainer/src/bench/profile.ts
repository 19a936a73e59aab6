import * as tf from '@tensorflow/tfjs-core';
import { createTrainingStep, registerGradients } from '@vitkit/training';
import { createViT } from '@vitkit/vit';
import { TRAIN_DEFAULTS } from '../commands/train.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { TRAINER_DEFAULT_DATA, trainingModelLabel } from './training.js';

/** Launches of one kernel in a profiled call: how many, and their summed time. */
export interface KernelRow {
  name: string;
  count: number;
  ms: number;
}

/** Kernels launched by one profiled call, by name, slowest first. */
export interface KernelProfile {
  /** What was profiled, e.g. "train step: trainer default (...), batch 128". */
  label: string;
  backend: string;
  /** Kernel launches in all (the sum of the rows' counts). */
  kernel_count: number;
  /** Summed kernel time (the sum of the rows' ms). */
  kernel_ms: number;
  /** Wall time of the profiled call (per-kernel timing adds overhead to it). */
  wall_ms: number;
  /** Wall time of the same call unprofiled, just before (median of a few). */
  unprofiled_ms: number;
  /**
   * Op scopes that tf.profile records besides kernels (custom-gradient ops
   * such as fusedMatMul__op): their time includes the kernels they launch,
   * so they are listed apart and left out of the totals.
   */
  scopes: KernelRow[];
  /** Tensors the call left allocated (should be 0 for a step). */
  new_tensors: number;
  kernels: KernelRow[];
}

/** Groups tf.profile's kernel records by name, slowest first (ties by count, then name). */
export function summarizeKernels(kernels: readonly { name: string; kernelTimeMs: number | { error: string } | Promise<number | { error: string }> }[]): KernelRow[] {
  const byName = new Map<string, KernelRow>();
  for (const k of kernels) {
    const row = byName.get(k.name) ?? { name: k.name, count: 0, ms: 0 };
    row.count += 1;
    row.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, row);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms || b.count - a.count || a.name.localeCompare(b.name));
}

/** Whether `name` is a kernel registered for the current backend (not an op scope). */
function isKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Profiles `f` (after the caller's warm-up) with tf.profile, timing `timedRuns` unprofiled calls first. */
export async function profileCall(label: string, f: () => void, timedRuns = 3): Promise<KernelProfile> {
  const times: number[] = [];
  for (let i = 0; i < timedRuns; i++) {
    const s = performance.now();
    f();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const t0 = performance.now();
  const info = await tf.profile(f);
  const wall = performance.now() - t0;
  const kernels = summarizeKernels(info.kernels.filter((k) => isKernel(k.name)));
  return {
    label,
    backend: tf.getBackend(),
    unprofiled_ms: times.length ? times[Math.floor((times.length - 1) / 2)]! : NaN,
    scopes: summarizeKernels(info.kernels.filter((k) => !isKernel(k.name))),
    kernel_count: kernels.reduce((s, k) => s + k.count, 0),
    kernel_ms: kernels.reduce((s, k) => s + k.ms, 0),
    wall_ms: wall,
    new_tensors: info.newTensors,
    kernels,
  };
}

/**
 * One training step (forward, backward, clipping, AdamW) of the trainer's
 * default model, or of `configSpec`, at `batch` (default: the trainer's), after `warmup` unprofiled steps.
 */
export async function profileTrainingStep(options: { configSpec?: string; batch?: number; warmup?: number } = {}): Promise<KernelProfile> {
  await registerGradients();
  const config = readConfigSpec(options.configSpec);
  const { model } = await buildModel({
    ...(config ? { config } : {}),
    fromData: TRAINER_DEFAULT_DATA,
    overrides: { dropout: TRAIN_DEFAULTS.dropout, dropPath: TRAIN_DEFAULTS.dropPath },
    seed: TRAIN_DEFAULTS.seed,
  });
  const batch = options.batch ?? TRAIN_DEFAULTS.batchSize;
  const runner = createTrainingStep(model, { batch });
  try {
    for (let i = 0; i < (options.warmup ?? 1); i++) runner.step();
    return await profileCall(`train step: ${trainingModelLabel(model, options.configSpec)}, batch ${batch}`, () => runner.step());
  } finally {
    runner.dispose();
    model.dispose();
  }
}

/** One forward pass (predict) of a seeded preset at `batch`, after `warmup` unprofiled ones. */
export async function profileForward(preset: string, batch: number, warmup = 1): Promise<KernelProfile> {
  const model = createViT(preset, {}, { seed: 0 });
  const [h, w] = model.config.imageSize;
  const x = tf.randomUniform([batch, h, w, model.config.inChannels], -1, 1, 'float32', 1);
  try {
    for (let i = 0; i < warmup; i++) tf.dispose(model.predict(x));
    return await profileCall(`forward: ${preset}, batch ${batch}`, () => {
      const logits = model.predict(x);
      logits.dataSync();
      logits.dispose();
    });
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** A profile as a table: kernels by time, with share of the kernel time, then the totals. */
export function profileTable(p: KernelProfile, top = Infinity): string {
  const rows = p.kernels.slice(0, top);
  const head = ['kernel', 'count', 'ms', '% time', 'ms/launch'];
  const cells = rows.map((k) => [k.name, String(k.count), k.ms.toFixed(2), ((100 * k.ms) / Math.max(p.kernel_ms, 1e-9)).toFixed(1), (k.ms / k.count).toFixed(3)]);
  if (rows.length < p.kernels.length) {
    const rest = p.kernels.slice(rows.length);
    cells.push([`(${rest.length} more)`, String(rest.reduce((s, k) => s + k.count, 0)), rest.reduce((s, k) => s + k.ms, 0).toFixed(2), '', '']);
  }
  cells.push(['total', String(p.kernel_count), p.kernel_ms.toFixed(2), '100.0', (p.kernel_ms / Math.max(p.kernel_count, 1)).toFixed(3)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [`${p.label} on ${p.backend}: ${p.kernel_count} kernel launches, ${p.kernel_ms.toFixed(1)} ms in kernels, ${p.wall_ms.toFixed(1)} ms wall (profiled; ${p.unprofiled_ms.toFixed(1)} ms unprofiled)${p.scopes.length ? `; op scopes, not counted: ${p.scopes.map((k) => `${k.name} x${k.count}`).join(', ')}` : ''}`, fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...cells.map(fmt)].join('\n');
}
