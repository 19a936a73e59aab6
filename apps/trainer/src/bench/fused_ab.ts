// A/B of vitkit's fused wasm ops (AdamW update, LayerNorm) against the
// per-tensor / composite tfjs ops on training steps of the trainer's default
// model (or a config): kernel launches by profile, and ms per step timed
// alternately in one process. Run:
//   node --conditions=@vitkit/source --import tsx apps/trainer/src/bench/fused_ab.ts [--rounds N] [--steps N] [--threads N] [--config C]
// Measurements: docs/experiments/training-speed.md.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setFusedOps, setupBackend } from '@vitkit/core';
import { createTrainingStep, registerGradients } from '@vitkit/training';
import { TRAIN_DEFAULTS } from '../commands/train.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { median } from './measure.js';
import { summarizeKernels } from './profile.js';
import { TRAINER_DEFAULT_DATA, trainingModelLabel } from './training.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' }, config: { type: 'string' } } });
const rounds = Number(values.rounds ?? 4);
const steps = Number(values.steps ?? 5);
await setupBackend('wasm', values.threads === undefined ? {} : { wasmThreads: Number(values.threads) });
await registerGradients();
const config = readConfigSpec(values.config);
const { model } = await buildModel({ ...(config ? { config } : {}), fromData: TRAINER_DEFAULT_DATA, overrides: { dropout: 0, dropPath: 0 }, seed: 0 });
const batch = TRAIN_DEFAULTS.batchSize;
const ms: Record<'fused' | 'per-tensor', number[]> = { fused: [], 'per-tensor': [] };
for (let r = 0; r < rounds; r++) {
  for (const variant of r % 2 ? (['per-tensor', 'fused'] as const) : (['fused', 'per-tensor'] as const)) {
    setFusedOps(variant === 'fused');
    const runner = createTrainingStep(model, { batch, fusedOptimizer: variant === 'fused' });
    try {
      runner.step();
      if (r < 2) {
        const info = await tf.profile(() => runner.step());
        const rows = summarizeKernels(info.kernels.filter((k) => tf.getKernel(k.name, 'wasm') !== undefined));
        const total = rows.reduce((s, k) => s + k.count, 0);
        const kernelMs = rows.reduce((s, k) => s + k.ms, 0);
        console.log(`${variant}: ${total} kernel launches, ${kernelMs.toFixed(1)} ms in kernels; top: ${rows.slice(0, 6).map((k) => `${k.name} ${k.count} (${k.ms.toFixed(1)} ms)`).join(', ')}`);
      }
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) runner.step();
      ms[variant].push((performance.now() - t0) / steps);
    } finally {
      runner.dispose();
    }
  }
}
const f = median(ms.fused);
const p = median(ms['per-tensor']);
console.log(`${trainingModelLabel(model, values.config)}, batch ${batch}, wasm threads ${values.threads ?? 'default'}:`);
console.log(`  fused ops:  ${ms.fused.map((x) => x.toFixed(0)).join(', ')} ms/step (median ${f.toFixed(1)}, ${((batch * 1000) / f).toFixed(1)} img/s)`);
console.log(`  per-tensor:  ${ms['per-tensor'].map((x) => x.toFixed(0)).join(', ')} ms/step (median ${p.toFixed(1)}, ${((batch * 1000) / p).toFixed(1)} img/s)`);
console.log(`  speed-up ${(p / f).toFixed(3)}x`);
model.dispose();
