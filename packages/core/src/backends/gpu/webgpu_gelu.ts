import type * as tf from '@tensorflow/tfjs-core';
import type { GeluForm } from '../fused/gelu.js';
import type { KernelArgs } from '../fused/storage.js';
import { GELU_CONSTANTS as K, geluForm } from './gelu_math.js';
import { flatDispatch, flatLayout, type WebGPUBackendLike, type WebGPUProgram } from './webgpu_program.js';

/**
 * VitkitGelu and VitkitGeluGrad on WebGPU: one elementwise launch each (tfjs
 * runs exact GELU as 5 kernels forward, about 10 backward). The math is
 * gelu_math.ts's, in WGSL (the same expressions as the GLSL of webgl_gelu.ts).
 */

/** WGSL for vkAct(x) and vkActGrad(x) (= d vkAct / dx) of one form. */
export function wgslGelu(form: GeluForm): string {
  const tanhArg = (v: string) => `2.0 * ${K.sqrt2OverPi} * (${v} + ${K.tanhCubic} * ${v} * ${v} * ${v})`;
  const act: Record<GeluForm, string> = {
    exact: 'return x * vkPhi(x);',
    tanh: `let c = clamp(x, -${K.xMax}, ${K.xMax}); return x * vkSigmoid(${tanhArg('c')});`,
    quick: `let c = clamp(x, -${K.xMax}, ${K.xMax}); return x * vkSigmoid(${K.quick} * c);`,
  };
  const grad: Record<GeluForm, string> = {
    exact: `return vkPhi(x) + c * ${K.invSqrt2Pi} * exp(-0.5 * c * c);`,
    tanh: `let s = vkSigmoid(${tanhArg('c')});
      return s + 2.0 * c * s * (1.0 - s) * ${K.sqrt2OverPi} * (1.0 + ${K.tanhCubic3} * c * c);`,
    quick: `let s = vkSigmoid(${K.quick} * c); return s + ${K.quick} * c * s * (1.0 - s);`,
  };
  return `
    // erfc(z) for z >= 0 (Numerical Recipes erfcc, fractional error < 1.2e-7).
    fn vkErfc(z : f32) -> f32 {
      let t = 1.0 / (1.0 + 0.5 * z);
      return t * exp(-z * z + ${K.erfcPoly});
    }
    // Phi(x) = 0.5 erfc(-x / sqrt 2), from the small side: no cancellation in either tail.
    fn vkPhi(x : f32) -> f32 {
      let h = 0.5 * vkErfc(min(abs(x) * ${K.sqrt1_2}, ${K.erfcZMax}));
      return select(h, 1.0 - h, x >= 0.0);
    }
    // 1 / (1 + exp(-z)) with exp of -|z| only: never overflows.
    fn vkSigmoid(z : f32) -> f32 {
      let e = exp(-abs(z));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
    }
    fn vkAct(x : f32) -> f32 {
      ${act[form]}
    }
    fn vkActGrad(x : f32) -> f32 {
      let c = clamp(x, -${K.xMax}, ${K.xMax});
      ${grad[form]}
    }`;
}

/** One invocation per element: y = act(x), or with `dy`, dx = dy act'(x). */
class GeluProgram implements WebGPUProgram {
  shaderKey: string;
  variableNames: string[];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  private form: GeluForm;
  private grad: boolean;
  constructor(shape: number[], form: GeluForm, grad: boolean) {
    this.form = form;
    this.grad = grad;
    this.shaderKey = `vitkit_gelu${grad ? '_grad' : ''}_${form}`;
    this.variableNames = grad ? ['dy', 'x'] : ['x'];
    this.outputShape = shape;
    this.dispatchLayout = flatLayout(shape);
    this.dispatch = flatDispatch(shape, this.workgroupSize[0]);
  }
  getUserCode(): string {
    return `${wgslGelu(this.form)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, ${this.grad ? 'dy[index] * vkActGrad(x[index])' : 'vkAct(x[index])'});
        }
      }`;
  }
}

export function webgpuGelu(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  return [(args.backend as WebGPUBackendLike).runWebGPUProgram(new GeluProgram(x.shape, geluForm(args.attrs), false), [x], 'float32')];
}

export function webgpuGeluGrad(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  return [(args.backend as WebGPUBackendLike).runWebGPUProgram(new GeluProgram(x.shape, geluForm(args.attrs), true), [dy, x], 'float32')];
}
