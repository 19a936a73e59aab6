import * as tf from '@tensorflow/tfjs-core';
import { numPrefixTokens, patchGrid } from '@vitkit/core';
import { disposeViTOutput, type VisionTransformer, type ViTOutput } from '@vitkit/vit';
import { attentionMaps } from '../attention/maps.js';
import type { ModelInput } from './inputs.js';
import type { ClassifyResult, Prediction } from './protocol.js';

/** Softmax of one row, computed in float64 with the max subtracted. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/** The k most likely classes of one logits row. */
export function topK(logits: readonly number[], labels: readonly string[], k = 5): Prediction[] {
  const probs = softmax(logits);
  return probs
    .map((probability, index) => ({ index, probability, label: labels[index] ?? `class ${index}` }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}

/**
 * Runs the model on a batch and returns logits, the top classes of the first
 * image, the forward latency and attention maps. Frees every tensor it makes.
 */
export async function classify(model: VisionTransformer, input: ModelInput, labels: readonly string[], backend: string): Promise<Omit<ClassifyResult, 'tensorsInMemory'>> {
  const config = model.config;
  const x = tf.tensor4d(input.data, input.shape);
  let out: ViTOutput | undefined;
  let maps: ReturnType<typeof attentionMaps> | undefined;
  try {
    const start = performance.now();
    out = model.forward(x, { returnAttention: true });
    const flat = await out.logits.data();
    const latencyMs = performance.now() - start;

    maps = attentionMaps(out.attentions ?? [], { prefixTokens: numPrefixTokens(config), classToken: config.classToken });
    const [perHead, rollout] = await Promise.all([maps.perHead.data() as Promise<Float32Array>, maps.rollout.data() as Promise<Float32Array>]);

    const [batch, width] = out.logits.shape;
    const logits = Array.from({ length: batch }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
    return {
      batch,
      logits,
      top: config.numClasses > 0 ? topK(logits[0]!, labels) : [],
      latencyMs,
      backend,
      attention: {
        grid: patchGrid(config),
        depth: config.depth,
        heads: config.numHeads,
        query: config.classToken ? 'cls' : 'mean',
        // Copies: a backend may hand out views of its own memory, which must not be transferred.
        perHead: new Float32Array(perHead),
        rollout: new Float32Array(rollout),
      },
      view: { width: input.view.width, height: input.view.height, rgba: input.view.data },
      inputSummary: input.summary,
    };
  } finally {
    x.dispose();
    if (out) disposeViTOutput(out);
    if (maps) tf.dispose([maps.perHead, maps.rollout]);
  }
}
