import * as tf from '@tensorflow/tfjs-core';
import { numPrefixTokens, patchGrid } from '@vitkit/core';
import { disposeViTOutput, type VisionTransformer, type ViTOutput } from '@vitkit/vit';
import { attentionMaps } from '../attention/maps.js';
import type { ModelInput } from './inputs.js';
import type { AttentionMaps, ClassifyResult, EmbeddingSummary, Prediction } from './protocol.js';

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

/** Norm and first values of an embedding, for a model without classifier. */
export function summarizeEmbedding(v: readonly number[], first = 5): EmbeddingSummary {
  return { dim: v.length, norm: Math.sqrt(v.reduce((a, x) => a + x * x, 0)), first: v.slice(0, first) };
}

/** What the map shows for this model, when that is not the obvious class-token row. */
function attentionNote(config: VisionTransformer['config']): string | undefined {
  if (config.pooling === 'map') {
    return 'This model pools with attention (MAP) outside these blocks; the map shows how much each patch is looked at by the others, not what the pooling query attends to.';
  }
  if (!config.classToken) return 'This model has no class token; the map shows how much each patch is looked at by the others.';
  return undefined;
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

    const attention: AttentionMaps = {
      grid: patchGrid(config),
      depth: config.depth,
      heads: config.numHeads,
      query: config.classToken ? 'cls' : 'mean',
      perHead: new Float32Array(0),
      rollout: new Float32Array(0),
      available: false,
    };
    const note = attentionNote(config);
    try {
      maps = attentionMaps(out.attentions ?? [], { prefixTokens: numPrefixTokens(config), classToken: config.classToken });
      const [perHead, rollout] = await Promise.all([maps.perHead.data() as Promise<Float32Array>, maps.rollout.data() as Promise<Float32Array>]);
      // Copies: a backend may hand out views of its own memory, which must not be transferred.
      Object.assign(attention, { perHead: new Float32Array(perHead), rollout: new Float32Array(rollout), available: true }, note ? { note } : {});
    } catch (e) {
      // The prediction stands on its own; the map is an extra this model may not have.
      attention.note = `No attention map for this model (${e instanceof Error ? e.message : String(e)}).`;
    }

    // Pooling 'none' without classifier returns all tokens [B, T, D]: one flat row per image.
    const batch = out.logits.shape[0];
    const width = out.logits.size / batch;
    const logits = Array.from({ length: batch }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
    return {
      batch,
      logits,
      top: config.numClasses > 0 ? topK(logits[0]!, labels) : [],
      ...(config.numClasses === 0 ? { embedding: summarizeEmbedding(logits[0]!) } : {}),
      latencyMs,
      backend,
      attention,
      view: { width: input.view.width, height: input.view.height, rgba: input.view.data },
      inputSummary: input.summary,
    };
  } finally {
    x.dispose();
    if (out) disposeViTOutput(out);
    if (maps) tf.dispose([maps.perHead, maps.rollout]);
  }
}
