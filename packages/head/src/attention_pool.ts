import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, Linear, Module, Rng, ShapeError, activate, type Activation } from '@vitkit/core';

export interface AttentionPoolConfig {
  embedDim: number;
  numHeads: number;
  /** Hidden width of the pool's MLP (timm: embed_dim * mlp_ratio, the blocks' width). */
  mlpDim: number;
  activation: Activation;
  layerNormEps: number;
}

/**
 * timm's `AttentionPoolLatent` as VisionTransformer builds it for `global_pool='map'`
 * (SigLIP): one learned latent query attends over the tokens with the model's head
 * count, then
 *   x = proj(attention(q(latent), kv(tokens)));  x = x + mlp(norm(x));  pooled = x[:, 0]
 * `kv` rows are the keys, then the values (each split into heads). No dropout (timm's
 * default drop 0).
 *
 * Parameters: `latent` [1,1,D], `q.*` [D,D], `kv.*` [2D,D], `proj.*` [D,D], `norm.*`,
 * `mlp.fc1.*`, `mlp.fc2.*`.
 */
export class AttentionPoolLatent extends Module {
  readonly config: AttentionPoolConfig;
  readonly headDim: number;
  readonly latent: tf.Variable;
  readonly q: Linear;
  readonly kv: Linear;
  readonly proj: Linear;
  readonly norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(config: AttentionPoolConfig, options: { seed?: number } = {}) {
    super();
    const { embedDim: d, numHeads: h, mlpDim } = config;
    if (d % h !== 0) throw new ShapeError(`attention pool width ${d} is not divisible by ${h} heads`);
    this.config = { ...config };
    this.headDim = d / h;
    const rng = Rng.fromSeed(options.seed);
    // timm: trunc_normal_tf_(latent, std = latent_dim ** -0.5).
    this.latent = this.addParameter('latent', tf.truncatedNormal([1, 1, d], 0, d ** -0.5, 'float32', rng.seed()), { decay: false });
    this.q = this.addModule('q', new Linear(d, d, { seed: rng.seed() }));
    this.kv = this.addModule('kv', new Linear(d, 2 * d, { seed: rng.seed() }));
    this.proj = this.addModule('proj', new Linear(d, d, { seed: rng.seed() }));
    this.norm = this.addModule('norm', new LayerNorm(d, config.layerNormEps));
    this.fc1 = this.addModule('mlp.fc1', new Linear(d, mlpDim, { seed: rng.seed() }));
    this.fc2 = this.addModule('mlp.fc2', new Linear(mlpDim, d, { seed: rng.seed() }));
  }

  /** Tokens [B, N, D] → pooled [B, D]. */
  forward(x: tf.Tensor3D): tf.Tensor2D {
    const d = this.config.embedDim;
    if (x.rank !== 3 || x.shape[2] !== d) throw new ShapeError(`attention pool expects tokens [batch, tokens, ${d}], got [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const [b, n] = x.shape;
      const h = this.config.numHeads;
      const dh = this.headDim;
      // The query does not depend on the image: one [H, Dh] for the whole batch, scale folded in.
      const q = tf.reshape(tf.mul(this.q.forward(tf.reshape(this.latent, [1, d])), dh ** -0.5), [1, 1, h, dh]);
      const kv = tf.reshape(this.kv.forward(x), [b, n, 2, h, dh]);
      const [k, v] = tf.unstack(kv, 2) as [tf.Tensor4D, tf.Tensor4D];
      // scores [B, N, H] -> softmax over the tokens.
      const probs = tf.softmax(tf.transpose(tf.sum(tf.mul(k, q), 3), [0, 2, 1]));
      // [B, H, N] -> [B, N, H, 1] weights on v [B, N, H, Dh], summed over tokens -> [B, D].
      const context = tf.reshape(tf.sum(tf.mul(tf.expandDims(tf.transpose(probs, [0, 2, 1]), 3), v), 1), [b, d]);
      const y = this.proj.forward(context);
      const mlp = this.fc2.forward(activate(this.fc1.forward(this.norm.forward(y)), this.config.activation));
      return tf.add(y, mlp) as tf.Tensor2D;
    });
  }
}
