// `vit bench --finetune full,blocks:1,probe-cached`: training img/s of a
// pretrained-size ViT (default ViT-Ti/16 at 224) per fine-tuning mode, the
// modes measured alternately (round-robin) so machine noise hits them alike.
import { setupBackend, type BackendName } from '@vitkit/core';
import { createTrainingStep, parseFreeze, registerGradients, splitModel, type FreezeMode } from '@vitkit/training';
import { createViT } from '@vitkit/vit';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { median } from './measure.js';

/** A mode: a freeze spec (`full` = none), or `probe-cached` (a probe stepping on embeddings computed once). */
export interface FinetuneMode {
  label: string;
  freeze: FreezeMode;
  cached: boolean;
}

export function parseFinetuneModes(spec: string): FinetuneMode[] {
  return spec.split(',').map((raw) => {
    const label = raw.trim();
    if (label === 'full') return { label, freeze: 'none', cached: false };
    if (label === 'probe-cached') return { label, freeze: 'backbone', cached: true };
    if (label === 'probe') return { label, freeze: 'backbone', cached: false };
    try {
      return { label, freeze: parseFreeze(label), cached: false };
    } catch {
      throw new UsageError(`--finetune: unknown mode '${label}'`, 'use full, probe, probe-cached or blocks:K, comma-separated');
    }
  });
}

export interface FinetuneRow {
  mode: string;
  img_per_s: number;
  ms_per_step: number;
  /** probe-cached: images per second of the one-time embedding pass. */
  embed_img_per_s?: number;
}

/** Times `steps` training steps per mode and round after one untimed step; medians over rounds. */
export async function benchFinetune(o: { preset: string; backend: BackendName; batch: number; steps: number; rounds: number; modes: FinetuneMode[] }): Promise<{ backend: string; preset: string; batch: number; rows: FinetuneRow[] }> {
  const setup = await setupBackend(o.backend);
  await registerGradients();
  const model = createViT(o.preset, { numClasses: 10 }, { seed: 0 });
  const times = new Map<string, number[]>(o.modes.map((m) => [m.label, []]));
  const embedTimes: number[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const mode of o.modes) {
        const runner = createTrainingStep(model, { batch: o.batch, freeze: mode.freeze, cachedEmbeddings: mode.cached });
        try {
          runner.step();
          const t0 = performance.now();
          for (let i = 0; i < o.steps; i++) runner.step();
          times.get(mode.label)!.push((performance.now() - t0) / o.steps);
        } finally {
          runner.dispose();
        }
        if (mode.cached) embedTimes.push(timeEmbedding(model, o.batch));
      }
    }
  } finally {
    model.dispose();
  }
  const rows = o.modes.map((m): FinetuneRow => {
    const ms = median(times.get(m.label)!);
    return { mode: m.label, img_per_s: (o.batch * 1000) / ms, ms_per_step: ms, ...(m.cached ? { embed_img_per_s: (o.batch * 1000) / median(embedTimes) } : {}) };
  });
  return { backend: setup.name, preset: o.preset, batch: o.batch, rows };
}

/** Milliseconds of one frozen-backbone pass over a batch (what embedding a dataset costs per batch). */
function timeEmbedding(model: ReturnType<typeof createViT>, batch: number): number {
  const split = splitModel(model, 'backbone');
  const [h, w] = model.config.imageSize;
  const x = tf.randomNormal([batch, h, w, model.config.inChannels], 0, 1, 'float32', 2);
  try {
    const t0 = performance.now();
    const f = split.frozen(x);
    f.dataSync();
    f.dispose();
    return performance.now() - t0;
  } finally {
    x.dispose();
  }
}
