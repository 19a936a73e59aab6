import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@vitkit/core';
import { axisCoefficients, PRECISION_BITS, type AxisCoefficients } from './coefficients.js';
import { checkTargetSize, type ResizeOptions } from './resize.js';

/**
 * The fixed-point weights are split as k = hi * 2^SPLIT + lo (0 <= lo < 2^SPLIT)
 * so that both matrix products hold integers below 2^24, which float32 matMul
 * computes exactly on every backend and in any summation order.
 */
const SPLIT_BITS = 7;
const FLOAT32_EXACT = 2 ** 24;

/**
 * The weight matrix of one band of output pixels [o0, o1): dense over the
 * input range [lo, hi) those outputs read, as hi and lo parts of Pillow's
 * fixed-point weights (and as float weights).
 */
interface Band {
  o0: number;
  o1: number;
  lo: number;
  hi: number;
  hiPart: Float32Array;
  loPart: Float32Array;
  float: Float32Array;
  /** True when hi/lo products stay below 2^24 for 8-bit input, i.e. the split path is exact. */
  exact: boolean;
}

/**
 * Resampling weights are banded (each output reads a few neighbouring inputs),
 * so one dense [outSize, inSize] matrix would be mostly zeros. Splitting the
 * outputs into bands and multiplying each band only with the input rows it
 * reads keeps every product a plain 2-D matMul while doing a fraction of the work.
 */
function axisBands(k: AxisCoefficients): Band[] {
  const { outSize, taps } = k;
  const bandCount = Math.max(1, Math.min(8, Math.floor(outSize / 16)));
  const per = Math.ceil(outSize / bandCount);
  const unit = 2 ** SPLIT_BITS;
  const bands: Band[] = [];
  for (let o0 = 0; o0 < outSize; o0 += per) {
    const o1 = Math.min(outSize, o0 + per);
    let lo = k.inSize;
    let hi = 0;
    for (let o = o0; o < o1; o++) {
      if (k.count[o]! === 0) continue;
      lo = Math.min(lo, k.start[o]!);
      hi = Math.max(hi, k.start[o]! + k.count[o]!);
    }
    if (hi <= lo) [lo, hi] = [0, 1];
    const width = hi - lo;
    const size = (o1 - o0) * width;
    const band: Band = { o0, o1, lo, hi, hiPart: new Float32Array(size), loPart: new Float32Array(size), float: new Float32Array(size), exact: true };
    for (let o = o0; o < o1; o++) {
      let absHi = 0;
      let sumLo = 0;
      for (let t = 0; t < k.count[o]!; t++) {
        const at = (o - o0) * width + k.start[o]! + t - lo;
        const fixed = k.fixed[o * taps + t]!;
        const h = Math.floor(fixed / unit);
        const l = fixed - h * unit;
        band.hiPart[at] = h;
        band.loPart[at] = l;
        band.float[at] = k.weights[o * taps + t]!;
        absHi += Math.abs(h);
        sumLo += l;
      }
      if (255 * absHi >= FLOAT32_EXACT || 255 * sumLo >= FLOAT32_EXACT) band.exact = false;
    }
    bands.push(band);
  }
  return bands;
}

/**
 * Resamples the rows of x [inSize, M] (the axis being resized) to [outSize, M].
 * In exact mode this reproduces Pillow's clip8((2^21 + sum(pixel * k)) >> 22)
 * using only float32 matMul, floor and power-of-two scaling: with
 * S = Sh * 2^b + Sl, floor((S + 2^21) / 2^22) = floor((Sh + floor(Sl / 2^b) + 2^(21-b)) / 2^(22-b)).
 * If some weights are too large for that to be exact (extreme downscaling,
 * windows of several hundred taps), it rounds the float result instead.
 */
function applyAxis(x: tf.Tensor2D, k: AxisCoefficients, mode: 'exact' | 'float'): tf.Tensor2D {
  const bands = axisBands(k);
  const m = x.shape[1];
  const rows = bands.map((b) => (b.lo === 0 && b.hi === k.inSize ? x : (tf.slice(x, [b.lo, 0], [b.hi - b.lo, m]) as tf.Tensor2D)));
  const product = (pick: (b: Band) => Float32Array): tf.Tensor2D => {
    const parts = bands.map((b, i) => tf.matMul(tf.tensor2d(pick(b), [b.o1 - b.o0, b.hi - b.lo]), rows[i]!));
    return (parts.length === 1 ? parts[0]! : tf.concat(parts, 0)) as tf.Tensor2D;
  };
  if (mode === 'float') return product((b) => b.float);
  if (!bands.every((b) => b.exact)) return tf.clipByValue(tf.floor(tf.add(product((b) => b.float), 0.5)), 0, 255) as tf.Tensor2D;
  const sh = product((b) => b.hiPart);
  const q = tf.floor(tf.mul(product((b) => b.loPart), 2 ** -SPLIT_BITS));
  const total = tf.add(tf.add(sh, q), 2 ** (PRECISION_BITS - 1 - SPLIT_BITS));
  return tf.clipByValue(tf.floor(tf.mul(total, 2 ** -(PRECISION_BITS - SPLIT_BITS))), 0, 255) as tf.Tensor2D;
}

/**
 * Resizes an HWC image tensor with Pillow's semantics using two matMuls with
 * precomputed weight matrices (horizontal pass, then vertical), so it runs on
 * every tfjs backend. With `pillow` precision (the default) the input must
 * hold integer levels 0..255 and the output equals Pillow's (and `resize`'s)
 * exactly; `float` skips the intermediate rounding. Returns float32.
 */
export function resizeTensor(image: tf.Tensor3D, width: number, height: number, options: ResizeOptions = {}): tf.Tensor3D {
  if (image.rank !== 3) throw new ShapeError(`image tensor must be [height, width, channels], got [${image.shape.join(', ')}]`);
  checkTargetSize(width, height);
  const [h, w, c] = image.shape;
  const interpolation = options.interpolation ?? 'bilinear';
  const precision = options.precision ?? 'pillow';
  if (precision !== 'pillow' && precision !== 'float') throw new ConfigError(`unknown resize precision "${String(precision)}"`);
  return tf.tidy(() => {
    let x = tf.cast(image, 'float32') as tf.Tensor3D;
    if (w === width && h === height) return x.clone();
    const mode = precision === 'pillow' ? (interpolation === 'nearest' ? 'float' : 'exact') : 'float';
    if (width !== w) {
      // [H, W, C] -> [W, H*C]: the width axis becomes the rows the weights act on.
      const rows = tf.reshape(tf.transpose(x, [1, 0, 2]), [w, h * c]) as tf.Tensor2D;
      const y = applyAxis(rows, axisCoefficients(w, width, interpolation), mode);
      x = tf.transpose(tf.reshape(y, [width, h, c]), [1, 0, 2]);
    }
    if (height !== h) {
      const cols = tf.reshape(x, [h, width * c]) as tf.Tensor2D;
      x = tf.reshape(applyAxis(cols, axisCoefficients(h, height, interpolation), mode), [height, width, c]);
    }
    return x;
  });
}
