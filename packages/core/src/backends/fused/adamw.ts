import * as tf from '@tensorflow/tfjs-core';
import { wasmAdamW } from '../wasm/adamw.js';
import type { FloatStorage, KernelArgs } from './storage.js';

/**
 * Multi-tensor AdamW: one kernel launch updates every parameter (the
 * per-tensor tfjs ops launch ~10 kernels per parameter tensor).
 *
 * Inputs, for i = 0..n-1: `param{i}`, `grad{i}`, `expAvg{i}`, `expAvgSq{i}`
 * (float32, same shapes). Attrs: `step` (t, already incremented), `beta1`,
 * `beta2`, `eps`, and per tensor `lrs[i]` (the learning rate with any
 * per-parameter scale applied) and `weightDecays[i]` (0: no decay).
 * Outputs: for each i, the new param, expAvg and expAvgSq (inputs are not
 * written; the optimizer assigns its variables the outputs).
 *
 * Each element follows torch 1.13's _single_tensor_adamw on CPU, op by op,
 * every op rounded to float32 as ATen's float kernels round:
 *   p  = p * f32(1 - lr wd)                      (param.mul_)
 *   m  = fma(g, f32(1 - b1), m * b1)             (exp_avg.mul_(b1).add_(g, alpha): ATen's vectorized add is fmadd)
 *   v  = v * b2 + (f32(1 - b2) * g) * g          (exp_avg_sq.mul_(b2).addcmul_(g, g, value))
 *   d  = sqrt(v) / f32(sqrt(1 - b2^t)) + eps     (denom)
 *   p  = p + (f32(-lr / (1 - b1^t)) * m) / d      (param.addcdiv_(m, d, value=-step_size))
 * The fma is computed in double (the product of two floats is exact there)
 * and rounded once to float32; a double-rounding tie can differ from a
 * hardware fma in the last bit, far inside the 1e-5 parity tolerance. On wasm
 * the same arithmetic runs as a SIMD module on the backend's memory
 * (backends/wasm/adamw.wat), bit for bit.
 */
export const ADAMW_KERNEL = 'VitkitAdamW';

export interface AdamWKernelAttrs {
  step: number;
  beta1: number;
  beta2: number;
  eps: number;
  lrs: number[];
  weightDecays: number[];
}

const f32 = Math.fround;

export function adamwKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { step, beta1, beta2, eps, lrs, weightDecays } = args.attrs as unknown as AdamWKernelAttrs;
  const n = lrs.length;
  const input = (what: string, i: number): tf.TensorInfo => args.inputs[`${what}${i}`]!;
  const outputs: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const shape = input('param', i).shape;
    outputs.push(storage.alloc(shape), storage.alloc(shape), storage.alloc(shape));
  }
  const b1 = f32(beta1);
  const c1 = f32(1 - beta1);
  const b2 = f32(beta2);
  const c2 = f32(1 - beta2);
  const e = f32(eps);
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = f32(Math.sqrt(1 - beta2 ** step));
  const simd = storage.wasmHeap && wasmAdamW(storage.wasmHeap);
  if (simd) {
    for (let i = 0; i < n; i++) {
      const p = input('param', i);
      const tensors = { p, g: input('grad', i), m: input('expAvg', i), v: input('expAvgSq', i), pOut: outputs[3 * i]!, mOut: outputs[3 * i + 1]!, vOut: outputs[3 * i + 2]! };
      const scalars = { decay: f32(1 - lrs[i]! * weightDecays[i]!), c1, b1, b2, c2, bc2Sqrt, eps: e, negStep: f32(-lrs[i]! / bc1) };
      simd(tensors, tf.util.sizeFromShape(p.shape), scalars);
    }
    return outputs;
  }
  // Views only after every allocation (a wasm allocation may move the heap).
  for (let i = 0; i < n; i++) {
    const p = storage.view(input('param', i));
    const g = storage.view(input('grad', i));
    const m = storage.view(input('expAvg', i));
    const v = storage.view(input('expAvgSq', i));
    const pOut = storage.view(outputs[3 * i]!);
    const mOut = storage.view(outputs[3 * i + 1]!);
    const vOut = storage.view(outputs[3 * i + 2]!);
    const decay = f32(1 - lrs[i]! * weightDecays[i]!);
    const negStep = f32(-lrs[i]! / bc1);
    for (let j = 0; j < p.length; j++) {
      const gj = g[j]!;
      const pj = f32(p[j]! * decay);
      const mj = f32(gj * c1 + f32(m[j]! * b1));
      const vj = f32(f32(v[j]! * b2) + f32(f32(c2 * gj) * gj));
      const denom = f32(f32(f32(Math.sqrt(vj)) / bc2Sqrt) + e);
      mOut[j] = mj;
      vOut[j] = vj;
      pOut[j] = f32(pj + f32(f32(negStep * mj) / denom));
    }
  }
  return outputs;
}
