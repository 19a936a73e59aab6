import * as tf from '@tensorflow/tfjs-core';

/**
 * What vitkit's WebGL kernels use of tfjs-backend-webgl, typed by shape:
 * @vitkit/core depends on tfjs-core only, so the backend and its program
 * interface (GPGPUProgram, tfjs-backend-webgl 4.22) are described here
 * instead of imported.
 *
 * A program is a fragment shader body run once per output element: tfjs
 * adds `getOutputCoords()`, `setOutput(v)` and, per input named in
 * `variableNames`, samplers `getX(i, j)` / `getXAtOutCoords()` (the name
 * capitalised), and declares `customUniforms`. Shapes are compiled in, so
 * each distinct shape compiles (once; tfjs caches by source).
 */
export interface GpgpuProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms?: { name: string; type: 'float' | 'int' }[];
}

export interface WebGLBackendLike {
  runWebGLProgram(program: GpgpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, customUniformValues?: number[][]): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/**
 * `t` viewed as `shape` through the webgl backend's own Reshape kernel: free
 * for an unpacked texture (same data, one more reference); a packed one whose
 * layout differs is repacked, as tfjs's own kernels do. Dispose the view as
 * an intermediate.
 */
export function webglReshape(backend: WebGLBackendLike, t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const reshape = tf.getKernel(tf.Reshape, 'webgl');
  if (!reshape) throw new Error('tfjs-backend-webgl registered no Reshape kernel');
  return reshape.kernelFunc({ inputs: { x: t }, backend: backend as unknown as tf.KernelBackend, attrs: { shape } }) as tf.TensorInfo;
}

/** A float32 output of zeros (the empty cases, where no shader may run). */
export function webglZeros(backend: WebGLBackendLike, shape: number[]): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)));
}
