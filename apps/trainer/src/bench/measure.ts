import * as tf from '@tensorflow/tfjs-core';
import type { VisionTransformer } from '@vitkit/vit';

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Times `runs` forward passes after `warmup` untimed ones, reading the
 * logits back each time so asynchronous backends are measured to completion.
 * Returns each run's milliseconds.
 */
export async function timeInference(model: VisionTransformer, batch: number, runs: number, warmup: number): Promise<number[]> {
  const [h, w] = model.config.imageSize;
  const x = tf.randomUniform([batch, h, w, model.config.inChannels], -1, 1, 'float32', 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const start = performance.now();
      const logits = model.predict(x);
      await logits.data();
      logits.dispose();
      if (i >= warmup) times.push(performance.now() - start);
    }
  } finally {
    x.dispose();
  }
  return times;
}
