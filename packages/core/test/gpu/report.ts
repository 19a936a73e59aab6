/** What the test page (page.ts) reports back to gpu_kernels.test.ts: plain data, so it crosses page.evaluate. */

/** Backends under test. */
export type GpuBackend = 'webgl' | 'webgpu';

/** One comparison of an output against its reference. */
export interface Diff {
  /** What was compared, e.g. "LayerNorm [3,50,96] y". */
  name: string;
  /** Largest |a - b|. */
  maxAbs: number;
  /** Largest |a - b| / (atol + rtol * scale_i): <= 1 passes. */
  worst: number;
  /** The tolerance, in words. */
  tolerance: string;
  /** Elements where one side is NaN (or infinite) and the other not, or lengths differ. */
  mismatched: number;
  /** The worst element: its index, value and reference value. */
  at: [number, number, number];
}

export interface Report {
  backend: GpuBackend;
  /** Whether the GPU backend was really the active one (a failed init falls back silently in tfjs). */
  active: string;
  /** e.g. the WebGL version and float32 rendering, the WebGPU adapter. */
  notes: string[];
  /** installGpuKernels / uninstallGpuKernels answers, by call. */
  install: Record<string, boolean>;
  /** Kernel outputs vs the cpu kernels (forward and backward, each kernel called directly). */
  kernels: Diff[];
  /** tf.grads of sum(w * act(layerNorm(x))) on the kernel path vs the cpu kernels and vs this backend's composite ops. */
  grads: Diff[];
  /** Composite-path gradients vs the cpu kernels: context for the tolerances (not asserted). */
  compositeVsCpu: Diff[];
  /** Tensors and backend data buffers before and after repeated calls. */
  memory: { what: string; numTensors: [number, number]; numDataIds: [number, number] }[];
  /** Shader programs launched for one call (fused kernels vs composite ops). */
  launches: { what: string; kernel: number; composite: number }[];
  /** Median ms (read back included), kernel vs composite, over `runs` calls each (up to 20, fewer when slow). */
  timing: { what: string; runs: [number, number]; kernelMs: number; compositeMs: number }[];
}

declare global {
  interface Window {
    gpuKernelTest: { run(backend: GpuBackend): Promise<Report> };
  }
}
