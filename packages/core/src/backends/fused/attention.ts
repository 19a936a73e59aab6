import * as tf from '@tensorflow/tfjs-core';
import { wasmAttention, type AttentionShape } from '../wasm/attention.js';
import type { FloatStorage, KernelArgs } from './storage.js';

/**
 * Multi-head self-attention as one launch forward and one backward, straight
 * from the qkv projection (tfjs runs it as ~15 kernels forward: split, head
 * transposes, two batched products, softmax, merge; and ~30 backward, the
 * softmax gradient's broadcast product among the slowest of a training step).
 *
 * Forward: input `qkv` [B*T, 3D], rows b*T + t, columns q | k | v, each H
 * heads of Dh = D / H (timm's fused qkv Linear, output unpermuted). Attrs
 * `tokens` (T), `heads` (H), `scale` (applied to q k^T). Outputs the context
 * [B*T, D] with heads merged (what `proj` takes) and the probabilities
 * [B, H, T, T].
 *
 * Backward: inputs `dy` (the context's gradient), `qkv`, `probs` and, when
 * something downstream used the probabilities, `dprobs`; output dqkv.
 *   dp = dy v^T (+ dprobs),  ds = p (dp - rowsum(p dp)),
 *   dq = scale ds k,  dk = scale ds^T q,  dv = p^T dy.
 * On wasm a SIMD module runs it in place (backends/wasm/attention.wat:
 * products in float32, softmax and row sums in double); these JS loops, in
 * double throughout, serve the cpu backend.
 */
export const ATTENTION_KERNEL = 'VitkitAttention';
export const ATTENTION_GRAD_KERNEL = 'VitkitAttentionGrad';

export interface AttentionKernelAttrs {
  tokens: number;
  heads: number;
  scale: number;
}

function shapeOf(qkv: tf.TensorInfo, attrs: tf.NamedAttrMap): AttentionShape {
  const { tokens, heads, scale } = attrs as unknown as AttentionKernelAttrs;
  const [rows, width] = qkv.shape as [number, number];
  return { batch: tokens === 0 ? 0 : rows / tokens, tokens, heads, headDim: width / 3 / heads, scale };
}

export function attentionKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { qkv } = args.inputs as { qkv: tf.TensorInfo };
  const s = shapeOf(qkv, args.attrs!);
  const dim = s.heads * s.headDim;
  const context = storage.alloc([s.batch * s.tokens, dim]);
  const probs = storage.alloc([s.batch, s.heads, s.tokens, s.tokens]);
  const simd = storage.wasmHeap && wasmAttention(storage.wasmHeap);
  if (simd) {
    simd.forward({ qkv, context, probs }, s);
    return [context, probs];
  }
  const [Q, C, P] = [qkv, context, probs].map((t) => storage.view(t)) as [Float32Array, Float32Array, Float32Array];
  const { batch, tokens: T, heads, headDim: dh, scale } = s;
  const row = new Float64Array(T);
  const acc = new Float64Array(dh);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const pBase = (b * heads + h) * T * T;
      for (let i = 0; i < T; i++) {
        const qOff = (b * T + i) * 3 * dim + h * dh;
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          const kOff = (b * T + j) * 3 * dim + dim + h * dh;
          let dot = 0;
          for (let d = 0; d < dh; d++) dot += Q[qOff + d]! * Q[kOff + d]!;
          row[j] = dot * scale;
          if (row[j]! > max) max = row[j]!;
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += row[j] = Math.exp(row[j]! - max);
        acc.fill(0);
        for (let j = 0; j < T; j++) {
          const p = row[j]! / sum;
          P[pBase + i * T + j] = p;
          const vOff = (b * T + j) * 3 * dim + 2 * dim + h * dh;
          for (let d = 0; d < dh; d++) acc[d] = acc[d]! + p * Q[vOff + d]!;
        }
        C.set(acc, (b * T + i) * dim + h * dh);
      }
    }
  }
  return [context, probs];
}

export function attentionGradKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { dy, qkv, probs, dprobs } = args.inputs as { dy: tf.TensorInfo; qkv: tf.TensorInfo; probs: tf.TensorInfo; dprobs?: tf.TensorInfo };
  const s = shapeOf(qkv, args.attrs!);
  const dqkv = storage.alloc(qkv.shape);
  const simd = storage.wasmHeap && wasmAttention(storage.wasmHeap);
  if (simd) {
    simd.backward({ dy, qkv, probs, ...(dprobs ? { dprobs } : {}), dqkv }, s);
    return [dqkv];
  }
  const [DY, Q, P, DQ] = [dy, qkv, probs, dqkv].map((t) => storage.view(t)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const G = dprobs ? storage.view(dprobs) : undefined;
  const { batch, tokens: T, heads, headDim: dh, scale } = s;
  const dim = heads * dh;
  const out = new Float64Array(DQ.length);
  const dp = new Float64Array(T);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const pBase = (b * heads + h) * T * T;
      for (let i = 0; i < T; i++) {
        const qOff = (b * T + i) * 3 * dim + h * dh;
        const yOff = (b * T + i) * dim + h * dh;
        let rowdot = 0;
        for (let j = 0; j < T; j++) {
          const vOff = (b * T + j) * 3 * dim + 2 * dim + h * dh;
          let dot = G ? G[pBase + i * T + j]! : 0;
          for (let d = 0; d < dh; d++) dot += DY[yOff + d]! * Q[vOff + d]!;
          dp[j] = dot;
          rowdot += P[pBase + i * T + j]! * dot;
        }
        for (let j = 0; j < T; j++) {
          const p = P[pBase + i * T + j]!;
          const ds = p * (dp[j]! - rowdot) * scale;
          const kOff = (b * T + j) * 3 * dim + dim + h * dh;
          const vOff = kOff + dim;
          for (let d = 0; d < dh; d++) {
            out[qOff + d] = out[qOff + d]! + ds * Q[kOff + d]!;
            out[kOff + d] = out[kOff + d]! + ds * Q[qOff + d]!;
            out[vOff + d] = out[vOff + d]! + p * DY[yOff + d]!;
          }
        }
      }
    }
  }
  DQ.set(out);
  return [dqkv];
}

/** The forward kernel's gradient: one backward launch for q, k and v together. */
export const attentionGradConfig: tf.GradConfig = {
  kernelName: ATTENTION_KERNEL,
  inputsToSave: ['qkv'],
  outputsToSave: [false, true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [qkv, probs] = saved as [tf.Tensor, tf.Tensor];
    const [dContext, dProbs] = Array.isArray(dy) ? dy : [dy];
    // Only the probabilities used downstream (rare): the context's gradient is zero.
    const dyContext = dContext ?? tf.zeros([qkv.shape[0]!, qkv.shape[1]! / 3]);
    const inputs: tf.NamedTensorMap = { dy: dyContext, qkv, probs };
    if (dProbs) inputs['dprobs'] = dProbs;
    const { tokens, heads, scale } = attrs as unknown as AttentionKernelAttrs;
    return { qkv: () => (tf.engine().runKernel(ATTENTION_GRAD_KERNEL, inputs, { tokens, heads, scale }) as tf.Tensor[])[0]! };
  },
};
