// The model Teach trains: the starting model's backbone with a fresh
// classifier for the user's classes.
import * as tf from '@tensorflow/tfjs-core';
import { withOverrides } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { freshHead } from '@vitkit/weights';

const HEADS = [
  ['head.weight', 'head.bias'],
  // Distilled models (DeiT) have a second classifier on the distillation token.
  ['head_dist.weight', 'head_dist.bias'],
] as const;

/**
 * A copy of `base` with new classifiers of `classNames.length` outputs,
 * initialized as timm initializes a Linear (freshHead, seeded), and the
 * class names as labels. `base` is left as it is.
 */
export function withFreshHead(base: VisionTransformer, classNames: readonly string[], seed: number): VisionTransformer {
  const config = withOverrides(base.config, { numClasses: classNames.length, labels: [...classNames] });
  const state = base.stateDict();
  let model: VisionTransformer | undefined;
  try {
    HEADS.forEach(([w, b], i) => {
      tf.dispose([state.get(w), state.get(b)].filter((t): t is tf.Tensor => t !== undefined));
      state.delete(w);
      state.delete(b);
      if (i === 1 && !config.distilled) return;
      const head = freshHead(classNames.length, config.embedDim, seed + i);
      state.set(w, tf.tensor(head.weight.data, head.weight.shape, 'float32'));
      state.set(b, tf.tensor(head.bias.data, head.bias.shape, 'float32'));
    });
    model = new VisionTransformer(config, { seed });
    model.loadStateDict(state);
    return model;
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    tf.dispose([...state.values()]);
  }
}
