import * as tf from '@tensorflow/tfjs-core';

/**
 * What vitkit's WebGPU kernels use of tfjs-backend-webgpu, typed by shape
 * (@vitkit/core depends on tfjs-core only): the WebGPUProgram interface and
 * runWebGPUProgram of tfjs-backend-webgpu 4.22.
 *
 * tfjs wraps `getUserCode()` in a compute shader: each input named in
 * `variableNames` is bound as `array<f32>` of that name (flat, so kernels
 * index it directly, whatever the rank), the output as `result`, written by
 * `setOutputAtIndex(i, v)`; `uniforms` (a WGSL struct body such as
 * `dim : i32,`) are read as `uniforms.dim` and get their values from
 * runWebGPUProgram's last argument, in order; `size: true` adds
 * `uniforms.size`, the output's element count. The entry point calls
 * `main(index)` with the global invocation index. tfjs appends ranks and
 * dtypes to `shaderKey` and caches pipelines by it, so shapes and attrs go in
 * uniforms and each `shaderKey` names one source. runWebGPUProgram rewrites
 * `shaderKey` and `dispatch`: build a fresh program for every call.
 */
export interface WebGPUProgram {
  shaderKey: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

export interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: ProgramUniform[]): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/** All axes of `shape` on the x dimension (tfjs's flatDispatchLayout). */
export function flatLayout(shape: number[]): { x: number[] } {
  return { x: shape.map((_, i) => i) };
}

/** Workgroups for one thread per output element (tfjs reshapes a dispatch over its per-dimension limit itself). */
export function flatDispatch(shape: number[], workgroupSize: number): [number, number, number] {
  return [Math.ceil(tf.util.sizeFromShape(shape) / workgroupSize), 1, 1];
}

/**
 * WGSL that sums each workgroup array of `arrays` over its first n * stride
 * slots into slots [0, stride) (n a power of two: a tree of n/2, n/4, ...
 * lanes; `stride` > 1 reduces that many columns side by side), `lane` being
 * the invocation's slot. Every invocation must reach it (its barriers need
 * uniform control flow); the sums are readable by all after it.
 */
export function treeSum(arrays: string[], lane: string, n: number, stride = 1): string {
  const adds = arrays.map((a) => `${a}[${lane}] = ${a}[${lane}] + ${a}[${lane} + k];`).join('\n            ');
  return `
        workgroupBarrier();
        for (var k = ${(n / 2) * stride}; k >= ${stride}; k = k / 2) {
          if (${lane} < k) {
            ${adds}
          }
          workgroupBarrier();
        }`;
}

/** A float32 output of zeros (the empty cases, where no shader may run). */
export function webgpuZeros(backend: WebGPUBackendLike, shape: number[]): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)));
}
