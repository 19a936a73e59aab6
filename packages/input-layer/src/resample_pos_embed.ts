import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vitkit/core';

export interface ResamplePosEmbedOptions {
  /** Tokens before the patch grid (class token, registers) that are kept as they are. */
  numPrefixTokens: number;
  /** The current grid [rows, cols]; default: the square grid the token count implies. */
  oldGrid?: [number, number];
}

/**
 * The bicubic convolution kernel with a = -0.5 (Keys). PyTorch's
 * antialiased bicubic (`interpolate(mode='bicubic', antialias=True)`, which
 * timm's resample_abs_pos_embed uses) takes this value from Pillow, unlike
 * the a = -0.75 of its plain bicubic path.
 */
function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/**
 * The [outSize, inSize] matrix of 1-D antialiased bicubic resampling with
 * align_corners=False. Output pixel i is centred at scale*(i+0.5) in input
 * coordinates; when downscaling (scale > 1) the kernel is stretched by the
 * scale so every input pixel contributes (the antialiasing). Taps that fall
 * outside the input are dropped and the remaining weights renormalized to
 * sum to 1, which is how the image edges are handled in both directions.
 */
export function antialiasedBicubicWeights(inSize: number, outSize: number): Float32Array {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = 2 * stretch;
  const w = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const taps: number[] = [];
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const v = cubic((j - center + 0.5) / stretch);
      taps.push(v);
      total += v;
    }
    for (let j = lo; j < hi; j++) w[i * inSize + j] = total !== 0 ? taps[j - lo]! / total : 0;
  }
  return w;
}

function isGrid(g: unknown): g is [number, number] {
  return Array.isArray(g) && g.length === 2 && g.every((v) => Number.isInteger(v) && v > 0);
}

/**
 * Resizes a position embedding [1, prefix + h*w, D] to a new patch grid
 * with timm's semantics (resample_abs_pos_embed): prefix tokens are kept,
 * the grid is resized by antialiased bicubic interpolation with
 * align_corners=False. tfjs has no such resize, so it is two matMuls with
 * the 1-D weight matrices (rows, then columns). Returns a new tensor; the
 * input is not disposed.
 */
export function resamplePosEmbed(posEmbed: tf.Tensor, newGrid: [number, number], options: ResamplePosEmbedOptions): tf.Tensor {
  const { numPrefixTokens: prefix } = options;
  if (posEmbed.rank !== 3 || posEmbed.shape[0] !== 1) {
    throw new ShapeError(`pos_embed must be [1, tokens, dim], got [${posEmbed.shape.join(', ')}]`);
  }
  const [, tokens, dim] = posEmbed.shape as [number, number, number];
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > tokens) {
    throw new ShapeError(`numPrefixTokens must be an integer in [0, ${tokens}], got ${prefix}`);
  }
  if (!isGrid(newGrid)) throw new ShapeError(`the new grid must be two positive integers, got ${JSON.stringify(newGrid)}`);
  const cells = tokens - prefix;
  let oldGrid = options.oldGrid;
  if (oldGrid === undefined) {
    const side = Math.round(Math.sqrt(cells));
    if (side * side !== cells) {
      throw new ShapeError(`pos_embed has ${cells} grid tokens, which is not a square grid`, 'pass oldGrid [rows, cols]');
    }
    oldGrid = [side, side];
  }
  if (!isGrid(oldGrid) || oldGrid[0] * oldGrid[1] !== cells) {
    throw new ShapeError(`oldGrid ${JSON.stringify(oldGrid)} does not match the ${cells} grid tokens of pos_embed`);
  }
  const [h, w] = oldGrid;
  const [nh, nw] = newGrid;
  if (h === nh && w === nw) return posEmbed.clone();
  return tf.tidy(() => {
    const rowsW = tf.tensor2d(antialiasedBicubicWeights(h, nh), [nh, h]);
    const colsW = tf.tensor2d(antialiasedBicubicWeights(w, nw), [nw, w]);
    const grid = tf.slice(posEmbed, [0, prefix, 0], [1, cells, dim]);
    // [h, w*D] -> rows resized -> [nh, w, D]
    const byRows = tf.reshape(tf.matMul(rowsW, tf.reshape(grid, [h, w * dim])), [nh, w, dim]);
    // [w, nh*D] -> columns resized -> [nw, nh, D] -> [nh, nw, D]
    const byCols = tf.matMul(colsW, tf.reshape(tf.transpose(byRows, [1, 0, 2]), [w, nh * dim]));
    const resized = tf.reshape(tf.transpose(tf.reshape(byCols, [nw, nh, dim]), [1, 0, 2]), [1, nh * nw, dim]);
    if (prefix === 0) return resized;
    return tf.concat([tf.slice(posEmbed, [0, 0, 0], [1, prefix, dim]), resized], 1);
  });
}
