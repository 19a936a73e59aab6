// A/B of vitkit's fused kernels (multi-tensor AdamW, global-norm clipping,
// LayerNorm forward/backward) against the composite tfjs ops, alternating in
// one process on wasm: kernel launches per training step (tf.profile), ms per
// training step of the trainer's default model (or --config), and ms per
// forward pass of --presets at batch 1. Toggles the kernels with
// installFusedKernels / uninstallFusedKernels (--kernels: only those, the
// others stay on in both variants; --wasm-slice: vitkit's wasm Slice/SplitV
// against tfjs's instead, every fused kernel on); --gelu-shapes also times gelu() alone
// on those shapes, forward and forward + backward. Run:
//   nice node --conditions=@vitkit/source --import tsx apps/trainer/src/bench/fused_ab.ts [--rounds N] [--steps N] [--runs N] [--config C] [--presets a,b]
//     [--kernels VitkitGelu,VitkitGeluGrad | --wasm-slice] [--gelu-shapes 1x197x3072,128x17x256] [--threads N]
// Figures: docs/experiments/training-speed.md.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { gelu, installFusedKernels, installWasmSlice, setupBackend, uninstallFusedKernels, uninstallWasmSlice } from '@vitkit/core';
import { createTrainingStep, registerGradients } from '@vitkit/training';
import { createViT } from '@vitkit/vit';
import { TRAIN_DEFAULTS } from '../commands/train.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { median, timeInference } from './measure.js';
import { summarizeKernels } from './profile.js';
import { TRAINER_DEFAULT_DATA, trainingModelLabel } from './training.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, steps: { type: 'string' }, runs: { type: 'string' }, config: { type: 'string' }, presets: { type: 'string' }, kernels: { type: 'string' }, 'gelu-shapes': { type: 'string' }, 'wasm-slice': { type: 'boolean' }, threads: { type: 'string' } },
});
const rounds = Number(values.rounds ?? 4);
const steps = Number(values.steps ?? 4);
const runs = Number(values.runs ?? 5);
const presets = (values.presets ?? 'vit_tiny_patch16_224').split(',').filter(Boolean);
const only = values.kernels?.split(',').filter(Boolean);
const geluShapes = (values['gelu-shapes'] ?? '').split(',').filter(Boolean).map((s) => s.split('x').map(Number));
await setupBackend('wasm', values.threads ? { wasmThreads: Number(values.threads) } : {});
await registerGradients();
const variants = ['fused', 'composite'] as const;
installFusedKernels('wasm');
const use = (v: (typeof variants)[number]): void => {
  if (values['wasm-slice']) void (v === 'fused' ? installWasmSlice() : uninstallWasmSlice());
  else void (v === 'fused' ? installFusedKernels('wasm', only) : uninstallFusedKernels('wasm', only));
};
console.log(values['wasm-slice'] ? "compared: vitkit's wasm Slice/SplitV (fused) vs tfjs's (composite)" : only ? `kernels compared: ${only.join(', ')}` : 'all fused kernels compared');
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const config = readConfigSpec(values.config);
const { model } = await buildModel({ ...(config ? { config } : {}), fromData: TRAINER_DEFAULT_DATA, overrides: { dropout: 0, dropPath: 0 }, seed: 0 });
const batch = TRAIN_DEFAULTS.batchSize;
const train: Record<string, number[]> = { fused: [], composite: [] };
for (let r = 0; r < rounds; r++) {
  for (const v of r % 2 ? [...variants].reverse() : variants) {
    use(v);
    const runner = createTrainingStep(model, { batch });
    try {
      runner.step();
      if (r < 2) {
        const info = await tf.profile(() => runner.step());
        const rows = summarizeKernels(info.kernels);
        const total = rows.reduce((s, k) => s + k.count, 0);
        console.log(`  ${v}: ${total} kernel launches per step; top: ${rows.slice(0, 8).map((k) => `${k.name} ${k.count} (${k.ms.toFixed(1)} ms)`).join(', ')}`);
      }
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) runner.step();
      train[v]!.push((performance.now() - t0) / steps);
    } finally {
      runner.dispose();
    }
  }
}
const report = (label: string, ms: Record<string, number[]>, unit: string): void => {
  const f = median(ms['fused']!);
  const c = median(ms['composite']!);
  console.log(label);
  for (const v of variants) console.log(`  ${v.padEnd(9)} ${ms[v]!.map((x) => x.toFixed(1)).join(', ')} ${unit} (median ${median(ms[v]!).toFixed(1)})`);
  console.log(`  composite / fused = ${(c / f).toFixed(3)}x`);
};
report(`train step: ${trainingModelLabel(model, values.config)}, batch ${batch}, wasm`, train, 'ms/step');
model.dispose();

for (const preset of presets) {
  const vit = createViT(preset, {}, { seed: 0 });
  const ms: Record<string, number[]> = { fused: [], composite: [] };
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      use(v);
      ms[v]!.push(median(await timeInference(vit, 1, runs, 1)));
    }
  }
  report(`forward: ${preset}, batch 1, wasm (each figure the median of ${runs} runs)`, ms, 'ms');
  vit.dispose();
}
for (const shape of geluShapes) {
  const x = tf.randomNormal(shape);
  const dy = tf.randomNormal(shape);
  // Forward alone, and forward + backward (the gradient with respect to x for a given dy).
  const passes = { forward: () => gelu(x), backward: () => tf.grad((a: tf.Tensor) => gelu(a))(x, dy) };
  for (const [pass, f] of Object.entries(passes)) {
    const ms: Record<string, number[]> = { fused: [], composite: [] };
    for (let r = 0; r < rounds; r++) {
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        use(v);
        f().dispose();
        const t0 = performance.now();
        for (let i = 0; i < runs; i++) f().dispose();
        ms[v]!.push((performance.now() - t0) / runs);
      }
    }
    report(`gelu ${pass === 'forward' ? 'forward alone' : 'forward + backward'}: [${shape.join(', ')}], wasm (each figure the mean of ${runs} calls)`, ms, 'ms');
  }
  tf.dispose([x, dy]);
}
installFusedKernels('wasm');
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
