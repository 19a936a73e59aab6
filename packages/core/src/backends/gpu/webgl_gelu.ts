import type * as tf from '@tensorflow/tfjs-core';
import type { GeluForm } from '../fused/gelu.js';
import type { KernelArgs } from '../fused/storage.js';
import { GELU_CONSTANTS as K, geluForm } from './gelu_math.js';
import type { GpgpuProgram, WebGLBackendLike } from './webgl_program.js';

/**
 * VitkitGelu and VitkitGeluGrad on WebGL: one elementwise launch each (tfjs
 * runs exact GELU as 5 kernels forward, about 10 backward). The math is
 * gelu_math.ts's, in GLSL; y = x sigmoid(2u) is the tanh form
 * 0.5 x (1 + tanh u) rewritten so that neither tail cancels.
 */

/** GLSL for vkAct(x) and vkActGrad(x) (= d vkAct / dx) of one form. */
export function glslGelu(form: GeluForm): string {
  const tanhArg = (v: string) => `2.0 * ${K.sqrt2OverPi} * (${v} + ${K.tanhCubic} * ${v} * ${v} * ${v})`;
  const act: Record<GeluForm, string> = {
    exact: 'return x * vkPhi(x);',
    tanh: `float c = clamp(x, -${K.xMax}, ${K.xMax}); return x * vkSigmoid(${tanhArg('c')});`,
    quick: `float c = clamp(x, -${K.xMax}, ${K.xMax}); return x * vkSigmoid(${K.quick} * c);`,
  };
  const grad: Record<GeluForm, string> = {
    exact: `return vkPhi(x) + c * ${K.invSqrt2Pi} * exp(-0.5 * c * c);`,
    tanh: `float s = vkSigmoid(${tanhArg('c')});
      return s + 2.0 * c * s * (1.0 - s) * ${K.sqrt2OverPi} * (1.0 + ${K.tanhCubic3} * c * c);`,
    quick: `float s = vkSigmoid(${K.quick} * c); return s + ${K.quick} * c * s * (1.0 - s);`,
  };
  return `
    // erfc(z) for z >= 0 (Numerical Recipes erfcc, fractional error < 1.2e-7).
    float vkErfc(float z) {
      float t = 1.0 / (1.0 + 0.5 * z);
      return t * exp(-z * z + ${K.erfcPoly});
    }
    // Phi(x) = 0.5 erfc(-x / sqrt 2), from the small side: no cancellation in either tail.
    float vkPhi(float x) {
      float h = 0.5 * vkErfc(min(abs(x) * ${K.sqrt1_2}, ${K.erfcZMax}));
      return x >= 0.0 ? 1.0 - h : h;
    }
    // 1 / (1 + exp(-z)) with exp of -|z| only: never overflows.
    float vkSigmoid(float z) {
      float e = exp(-abs(z));
      return z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    }
    float vkAct(float x) {
      ${act[form]}
    }
    float vkActGrad(float x) {
      float c = clamp(x, -${K.xMax}, ${K.xMax});
      ${grad[form]}
    }`;
}

class GeluProgram implements GpgpuProgram {
  variableNames = ['x'];
  outputShape: number[];
  userCode: string;
  constructor(shape: number[], form: GeluForm) {
    this.outputShape = shape;
    this.userCode = `${glslGelu(form)}
      void main() {
        setOutput(vkAct(getXAtOutCoords()));
      }`;
  }
}

class GeluGradProgram implements GpgpuProgram {
  variableNames = ['dy', 'x'];
  outputShape: number[];
  userCode: string;
  constructor(shape: number[], form: GeluForm) {
    this.outputShape = shape;
    this.userCode = `${glslGelu(form)}
      void main() {
        setOutput(getDyAtOutCoords() * vkActGrad(getXAtOutCoords()));
      }`;
  }
}

export function webglGelu(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  return [(args.backend as WebGLBackendLike).runWebGLProgram(new GeluProgram(x.shape, geluForm(args.attrs)), [x], 'float32')];
}

export function webglGeluGrad(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  return [(args.backend as WebGLBackendLike).runWebGLProgram(new GeluGradProgram(x.shape, geluForm(args.attrs)), [dy, x], 'float32')];
}
