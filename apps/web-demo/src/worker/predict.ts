import * as tf from '@tensorflow/tfjs-core';
import { numPrefixTokens, patchGrid } from '@vitkit/core';
import { disposeViTOutput, type ViTOutput } from '@vitkit/vit';
import { topPredictions, type ImageClassifier, type TaskModel } from '@vitkit/tasks';
import { attentionMaps } from '../attention/maps.js';
import { invertPixels, npyBatchShape, npyView, rgbaView, type ReadInput } from './inputs.js';
import { presetOption } from './presets.js';
import type { AttentionMaps, ClassifyResult, EmbeddingSummary, PreprocessOptions } from './protocol.js';
import { InputError } from './errors.js';

/** Norm and first values of an embedding, for a model without classifier. */
export function summarizeEmbedding(v: readonly number[], first = 5): EmbeddingSummary {
  return { dim: v.length, norm: Math.sqrt(v.reduce((a, x) => a + x * x, 0)), first: v.slice(0, first) };
}

/** What the map shows for this model, when that is not the obvious class-token row. */
function attentionNote(config: ImageClassifier['config']): string | undefined {
  if (config.pooling === 'map') {
    return 'This model pools with attention (MAP) outside these blocks; the map shows how much each patch is looked at by the others, not what the pooling query attends to.';
  }
  if (!config.classToken) return 'This model has no class token; the map shows how much each patch is looked at by the others.';
  return undefined;
}

/** The page's preprocessing choice as the task layer's per-call `preprocess` option (undefined: the model's own). */
export function preprocessOption(task: Pick<TaskModel, 'config'>, pre: PreprocessOptions): string | Record<string, unknown> | undefined {
  if (pre.preset === 'model') return undefined;
  const option = presetOption(pre.preset, task.config.imageSize);
  if (option === undefined) throw new InputError(`unknown preprocessing "${pre.preset}"`, 'pick one from the list');
  return option;
}

/** The model batch for an input: images go through the task layer's preprocessing; a .npy is used as it is. */
async function modelBatch(classifier: ImageClassifier, input: ReadInput, pre: PreprocessOptions): Promise<{ batch: tf.Tensor4D; view: ClassifyResult['view']; summary: string }> {
  const { imageSize, inChannels } = classifier.config;
  const [h, w] = imageSize;
  if (input.kind === 'npy') {
    const shape = npyBatchShape(input, imageSize, inChannels);
    return {
      batch: tf.tensor4d(input.data, shape),
      view: npyView(input.data, h, w, inChannels),
      summary: `${input.name}: npy [${input.shape.join(', ')}] float32, used as it is`,
    };
  }
  const image = pre.invert ? invertPixels(input.image) : input.image;
  const option = preprocessOption(classifier, pre);
  const prepared = await classifier.prepare(image, option === undefined ? {} : { preprocess: option });
  const name = pre.preset === 'model' ? classifier.details.preprocessSource : pre.preset;
  return {
    batch: prepared.batch,
    view: rgbaView(prepared.views[0]!, inChannels === 1),
    summary: `${input.name}: ${input.image.width}×${input.image.height} → ${w}×${h}×${inChannels}, ${name} preprocessing${pre.invert ? ', inverted' : ''}`,
  };
}

/**
 * Runs the model on one input through the task layer (its preprocessing, its top-k) and the
 * model's attention (the task layer's `model`). Frees every tensor it makes.
 */
export async function predict(classifier: ImageClassifier, input: ReadInput, pre: PreprocessOptions, backend: string): Promise<Omit<ClassifyResult, 'tensorsInMemory'>> {
  const config = classifier.config;
  const { batch, view, summary } = await modelBatch(classifier, input, pre);
  let out: ViTOutput | undefined;
  let maps: ReturnType<typeof attentionMaps> | undefined;
  try {
    const start = performance.now();
    out = classifier.model.forward(batch, { returnAttention: true });
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
    const rows = out.logits.shape[0];
    const width = out.logits.size / rows;
    const logits = Array.from({ length: rows }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
    const classifies = classifier.details.head === 'classifier';
    const top = classifies ? topPredictions([logits[0]!], 5, classifier.labels)[0]!.top : [];
    return {
      batch: rows,
      logits,
      top,
      ...(classifies ? {} : { embedding: summarizeEmbedding(logits[0]!) }),
      latencyMs,
      backend,
      attention,
      view,
      inputSummary: summary,
    };
  } finally {
    batch.dispose();
    if (out) disposeViTOutput(out);
    if (maps) tf.dispose([maps.perHead, maps.rollout]);
  }
}
