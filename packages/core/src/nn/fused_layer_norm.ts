import * as tf from '@tensorflow/tfjs-core';
import { allocateFloat32, float32Storage } from '../backends/storage.js';
import { fusedOpsEnabled } from './fused_ops.js';

/**
 * LayerNorm over the last axis as one JS pass over the wasm module's memory,
 * forward and backward, instead of ~9 kernels forward and ~25 backward
 * (tfjs differentiating the composite). Statistics are accumulated in double
 * precision (PyTorch accumulates in float32 with a different order; both are
 * within the parity fixtures' 1e-4 / 1e-5). The gradient is the analytic one
 * PyTorch uses:
 *   xhat = (x - mean) * rstd,  y = xhat * gamma + beta
 *   dbeta = sum_rows dy,  dgamma = sum_rows dy * xhat
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma
 * Returns undefined where it does not apply (not wasm, not float32, fused
 * ops turned off, large inputs outside training), and the
 * caller takes the composite ops.
 */
/** Heap views of float32 wasm tensors; take them only after the last allocation (it may move the heap). */
function views<T extends tf.Tensor[]>(...tensors: T): { [K in keyof T]: Float32Array } {
  return tensors.map((t) => float32Storage(t, false)!) as { [K in keyof T]: Float32Array };
}

/**
 * Above this many elements, without a gradient tape, the composite ops (on
 * XNNPACK's threads) are as fast as the single-threaded fused pass: measured
 * 6.8x faster fused at [1, 197, 192], 1.4x at [128, 17, 64], 0.85x at
 * [8, 197, 768] (docs/experiments/training-speed.md).
 */
const FUSED_INFERENCE_MAX_SIZE = 1 << 18;

export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor | undefined {
  if (!fusedOpsEnabled() || tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32') return undefined;
  if (x.size > FUSED_INFERENCE_MAX_SIZE && tf.engine().state.gradientDepth === 0) return undefined;
  const dim = x.shape[x.rank - 1]!;
  if (gamma.size !== dim || beta.size !== dim) return undefined;
  const forward = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc): { value: tf.Tensor; gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] } => {
    const rows = xi.size / dim;
    const y = allocateFloat32(xi.shape)!;
    const mean = allocateFloat32([rows])!;
    const rstd = allocateFloat32([rows])!;
    const [X, G, B, Y, M, R] = views(xi, g, b, y, mean, rstd);
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
    save([xi, g, mean, rstd]);
    mean.dispose();
    rstd.dispose();
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, smean, srstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dyT = Array.isArray(dy) ? dy[0]! : dy;
        const dx = allocateFloat32(sx.shape)!;
        const dgamma = allocateFloat32([dim])!;
        const dbeta = allocateFloat32([dim])!;
        const [DY, SX, SG, SM, SR, DX] = views(dyT, sx, sg, smean, srstd, dx);
        const dG = new Float64Array(dim);
        const dB = new Float64Array(dim);
        for (let r = 0, o = 0; r < rows; r++, o += dim) {
          const mu = SM[r]!;
          const rs = SR[r]!;
          let sumG = 0;
          let sumGX = 0;
          for (let j = 0; j < dim; j++) {
            const xh = (SX[o + j]! - mu) * rs;
            const d = DY[o + j]!;
            const gj = d * SG[j]!;
            sumG += gj;
            sumGX += gj * xh;
            dG[j] = dG[j]! + d * xh;
            dB[j] = dB[j]! + d;
          }
          const mG = sumG / dim;
          const mGX = sumGX / dim;
          for (let j = 0; j < dim; j++) {
            const xh = (SX[o + j]! - mu) * rs;
            DX[o + j] = rs * (DY[o + j]! * SG[j]! - mG - xh * mGX);
          }
        }
        float32Storage(dgamma, false)!.set(dG);
        float32Storage(dbeta, false)!.set(dB);
        return [dx, dgamma, dbeta];
      },
    };
  };
  // The scope names the fused op in tf.profile (vitkitLayerNorm__op).
  const fused = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return tf.op({ vitkitLayerNorm: (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => fused(a, g, b) })(x, gamma, beta);
}
