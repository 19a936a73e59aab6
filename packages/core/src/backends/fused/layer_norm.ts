import * as tf from '@tensorflow/tfjs-core';
import { wasmLayerNorm } from '../wasm/layer_norm.js';
import type { FloatStorage, KernelArgs } from './storage.js';

/**
 * LayerNorm over the last axis as one pass forward and one backward (tfjs
 * differentiating the composite launches ~9 kernels forward and ~25 backward).
 *
 * Forward, inputs `x` [..., D], `gamma` [D], `beta` [D]; attr `eps`. Outputs
 * y (x's shape) and, per row, mean and rstd = 1 / sqrt(var + eps) (biased
 * variance, as PyTorch), which the backward kernel reuses. Statistics are
 * accumulated in double and each output rounded once to float32. On wasm the
 * same arithmetic runs as a SIMD module on the backend's memory
 * (backends/wasm/layer_norm.wat); these JS loops serve the cpu backend and
 * runtimes without wasm SIMD.
 *
 * Backward, inputs `dy`, `x`, `gamma`, `mean`, `rstd`; outputs dx, dgamma,
 * dbeta, with PyTorch's analytic gradient:
 *   xhat = (x - mean) rstd,  g = dy gamma
 *   dx = rstd (g - mean_D(g) - xhat mean_D(g xhat)),
 *   dgamma = sum_rows dy xhat,  dbeta = sum_rows dy.
 */
export const LAYER_NORM_KERNEL = 'VitkitLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'VitkitLayerNormGrad';

/** A tuple of N float32 views (taken after every allocation: a wasm allocation may move the heap). */
type Views<N extends number, T extends Float32Array[] = []> = T['length'] extends N ? T : Views<N, [...T, Float32Array]>;

/** Row length (the last axis) and row count of `x`. */
function rowsOf(x: tf.TensorInfo): { dim: number; rows: number } {
  const dim = x.shape[x.shape.length - 1]!;
  return { dim, rows: dim === 0 ? 0 : tf.util.sizeFromShape(x.shape) / dim };
}

export function layerNormKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const eps = args.attrs!['eps'] as number;
  const { dim, rows } = rowsOf(x);
  const outputs = [storage.alloc(x.shape), storage.alloc([rows]), storage.alloc([rows])];
  const simd = storage.wasmHeap && wasmLayerNorm(storage.wasmHeap);
  if (simd) {
    const [y, mean, rstd] = outputs as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    simd.forward({ x, gamma, beta, y, mean, rstd }, rows, dim, eps);
    return outputs;
  }
  const [X, G, B, Y, M, R] = [x, gamma, beta, ...outputs].map((t) => storage.view(t)) as Views<6>;
  for (let r = 0, o = 0; r < rows; r++, o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += X[o + j]!;
    const mu = s / dim;
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const d = X[o + j]! - mu;
      ss += d * d;
    }
    const rs = 1 / Math.sqrt(ss / dim + eps);
    M[r] = mu;
    R[r] = rs;
    for (let j = 0; j < dim; j++) Y[o + j] = (X[o + j]! - mu) * rs * G[j]! + B[j]!;
  }
  return outputs;
}

export function layerNormGradKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { dy, x, gamma, mean, rstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'rstd', tf.TensorInfo>;
  const { dim, rows } = rowsOf(x);
  const outputs = [storage.alloc(x.shape), storage.alloc([dim]), storage.alloc([dim])];
  const simd = storage.wasmHeap && wasmLayerNorm(storage.wasmHeap);
  if (simd) {
    const [dx, dgamma, dbeta] = outputs as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    simd.backward({ dy, x, gamma, mean, rstd, dx, dgamma, dbeta }, rows, dim);
    return outputs;
  }
  const [DY, X, G, M, R, DX, DG, DB] = [dy, x, gamma, mean, rstd, ...outputs].map((t) => storage.view(t)) as Views<8>;
  const dG = new Float64Array(dim);
  const dB = new Float64Array(dim);
  for (let r = 0, o = 0; r < rows; r++, o += dim) {
    const mu = M[r]!;
    const rs = R[r]!;
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < dim; j++) {
      const xh = (X[o + j]! - mu) * rs;
      const d = DY[o + j]!;
      const gj = d * G[j]!;
      sumG += gj;
      sumGX += gj * xh;
      dG[j] = dG[j]! + d * xh;
      dB[j] = dB[j]! + d;
    }
    const mG = sumG / dim;
    const mGX = sumGX / dim;
    for (let j = 0; j < dim; j++) {
      const xh = (X[o + j]! - mu) * rs;
      DX[o + j] = rs * (DY[o + j]! * G[j]! - mG - xh * mGX);
    }
  }
  DG.set(dG);
  DB.set(dB);
  return outputs;
}

/** The forward kernel's gradient: one backward kernel launch for dx, dgamma and dbeta. */
export const layerNormGradConfig: tf.GradConfig = {
  kernelName: LAYER_NORM_KERNEL,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x, gamma, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const dyY = Array.isArray(dy) ? dy[0]! : dy;
    // Computed here, not in the closures: tfjs runs each closure in its own tidy,
    // which would dispose the other two outputs of a shared launch.
    const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy: dyY, x, gamma, mean, rstd }, {}) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};
