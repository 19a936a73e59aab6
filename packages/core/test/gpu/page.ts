/**
 * The browser half of gpu_kernels.test.ts, bundled by esbuild and opened in
 * headless Chromium: runs vitkit's GPU kernels (src/backends/gpu) on the
 * webgl or webgpu backend and reports, as plain data, how far they are from
 * the cpu kernels (src/backends/fused, float32 in / double accumulation) and
 * from the composite tfjs ops, whether tensors leak, how many shader
 * programs each path launches, and how long each takes. The test file
 * asserts; this page only measures.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
// devDependencies of the test only: @vitkit/core itself depends on tfjs-core alone.
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { GELU_GRAD_KERNEL, GELU_KERNEL, installFusedKernels, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../../src/backends/fused/index.js';
import { installGpuKernels, uninstallGpuKernels } from '../../src/backends/gpu/index.js';
import { gelu, geluTanh, layerNorm, quickGelu } from '../../src/nn/functional.js';
import { Rng } from '../../src/rng.js';
import { phi64 } from '../support/erf64.js';
import type { Diff, GpuBackend, Report } from './report.js';

// ---------------------------------------------------------------- inputs

/** n normal(mean, std) float32 values (Box-Muller). */
function normal(n: number, seed: number, mean = 0, std = 1): Float32Array {
  const rng = new Rng(seed);
  const u = (): number => rng.next();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

interface Input {
  shape: number[];
  values: Float32Array;
}
const input = (shape: number[], values: Float32Array): Input => ({ shape, values });
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

interface LayerNormCase {
  shape: number[];
  eps: number;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  dy: Float32Array;
}

/** D = 37 (odd), 96, 192, 768; 1 to 2000 rows; ranks 2 and 3; one set of rows far from 0 (a common offset of 30). */
const LAYER_NORM_CASES: LayerNormCase[] = [
  { shape: [1, 37], offset: 0, eps: 1e-5 },
  { shape: [5, 7, 37], offset: 0, eps: 1e-5 },
  { shape: [3, 50, 96], offset: 0, eps: 1e-5 },
  { shape: [2000, 96], offset: 0, eps: 1e-5 },
  { shape: [4, 197, 192], offset: 0, eps: 1e-6 },
  { shape: [1, 768], offset: 0, eps: 1e-5 },
  { shape: [130, 768], offset: 30, eps: 1e-6 },
  // Edges: one column (var 0, rstd 1/sqrt(eps)), no rows (no shader may run; dgamma and dbeta are zeros).
  { shape: [5, 1], offset: 0, eps: 1e-5 },
  { shape: [0, 8], offset: 0, eps: 1e-5 },
].map(({ shape, offset, eps }, i) => {
  const n = size(shape);
  const dim = shape[shape.length - 1]!;
  return {
    shape,
    eps,
    x: normal(n, 100 + i, offset, 2),
    gamma: normal(dim, 200 + i, 1, 0.1),
    beta: normal(dim, 300 + i, 0, 0.1),
    dy: normal(n, 400 + i),
  };
});

interface GeluInput extends Input {
  /**
   * Whether the cpu kernel is a reference here. Its erf clamps the argument
   * to [-4, 4] (backends/wasm/gelu.wat), so for x < -5.7 exact GELU comes out
   * as 7.7e-9 x instead of ~0: off by more than 1e-5 below x ~ -1300. Those
   * inputs are judged against the double-precision reference only.
   */
  cpu: boolean;
}

/** Every form over [-10, 10] densely, the tails, a ViT-sized random block, and huge |x| (which must saturate, not overflow). */
function geluInputs(): GeluInput[] {
  const grid = new Float32Array(4001).map((_, i) => -10 + i / 200);
  const tails = Float32Array.from([0, -0, 1e-8, -1e-8, 1e-30, 5, -5, 9, -9, 12, -12, 15, -15, 30, -30, 100, -100]);
  const huge = Float32Array.from([1e3, -1e3, 1e4, -1e4, 1e10, -1e10, 1e30, -1e30, 3e38, -3e38]);
  return [
    { ...input([grid.length], grid), cpu: true },
    { ...input([tails.length], tails), cpu: true },
    { ...input([3, 37, 5], normal(555, 7, 0, 3)), cpu: true },
    { ...input([512, 192], normal(512 * 192, 8, 0, 3)), cpu: true },
    { ...input([huge.length], huge), cpu: false },
  ];
}
const GELU_INPUTS = geluInputs();
const FORMS = ['exact', 'tanh', 'quick'] as const;
type Form = (typeof FORMS)[number];

const sigmoid64 = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const tanhArg64 = (x: number): number => Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3);

/** Each form and its derivative in double precision, from their definitions. */
const GELU64: Record<Form, [(x: number) => number, (x: number) => number]> = {
  exact: [(x) => x * phi64(x), (x) => phi64(x) + (Math.abs(x) > 40 ? 0 : (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI))],
  tanh: [
    (x) => x * sigmoid64(2 * tanhArg64(x)),
    (x) => {
      const s = sigmoid64(2 * tanhArg64(x));
      return s + (s === 0 || s === 1 ? 0 : 2 * x * s * (1 - s) * Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x));
    },
  ],
  quick: [
    (x) => x * sigmoid64(1.702 * x),
    (x) => {
      const s = sigmoid64(1.702 * x);
      return s + (s === 0 || s === 1 ? 0 : 1.702 * x * s * (1 - s));
    },
  ],
};

/** The double-precision reference, rounded to float32: y = act(x), or dx = dy act'(x). */
function gelu64(form: Form, x: Float32Array, dy?: Float32Array): Float32Array {
  const [f, df] = GELU64[form];
  return x.map((v, i) => (dy ? dy[i]! * df(v) : f(v)));
}

/** The dy fed to GeluGrad for input i (the same on every backend). */
const geluDy = (i: number): Float32Array => normal(GELU_INPUTS[i]!.values.length, 900 + i);

// ---------------------------------------------------------------- comparing

/**
 * |a - b| <= atol_i + rtol |b_i|, per element (scale_i, if given, replaces
 * |b_i|: sums over rows are judged against the sum of their terms' sizes).
 */
function diff(name: string, a: Float32Array, b: Float32Array, atol: number, rtol: number, scale?: Float64Array | number): Diff {
  let maxAbs = 0;
  let worst = 0;
  let at: [number, number, number] = [-1, 0, 0];
  let mismatched = a.length === b.length ? 0 : Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) mismatched++;
      continue;
    }
    const d = Math.abs(x - y);
    const s = scale === undefined ? Math.abs(y) : typeof scale === 'number' ? scale : scale[i]!;
    maxAbs = Math.max(maxAbs, d);
    const r = d / (atol + rtol * s);
    if (r > worst) {
      worst = r;
      at = [i, x, y];
    }
  }
  const scaleWords = scale === undefined ? '|ref|' : typeof scale === 'number' ? 'max|ref|' : 'sum over rows of |term|';
  return { name, maxAbs, worst, mismatched, at, tolerance: `${atol} + ${rtol} * ${scaleWords}` };
}

const maxAbsOf = (v: Float32Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** Per column j, sum over rows of |dy xhat| (dgamma) and |dy| (dbeta): the scale of a float32 sum's rounding. */
function columnScales(c: LayerNormCase, mean: Float32Array, rstd: Float32Array): [Float64Array, Float64Array] {
  const dim = c.shape[c.shape.length - 1]!;
  const rows = c.x.length / dim;
  const g = new Float64Array(dim);
  const b = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const i = r * dim + j;
      g[j] = g[j]! + Math.abs(c.dy[i]! * (c.x[i]! - mean[r]!) * rstd[r]!);
      b[j] = b[j]! + Math.abs(c.dy[i]!);
    }
  }
  return [g, b];
}

// ---------------------------------------------------------------- running

async function use(backend: string): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
}

/** Runs `kernel` on the active backend on fresh tensors of `inputs`; returns its outputs' values (nothing kept). */
async function runKernel(kernel: string, inputs: Record<string, Input>, attrs: tf.NamedAttrMap): Promise<Float32Array[]> {
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape, 'float32')]));
  const outs = tf.engine().runKernel(kernel, tensors, attrs) as tf.Tensor[];
  const values = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>));
  tf.dispose([...Object.values(tensors), ...outs]);
  return values;
}

/** Every kernel call of the cases, in order, on the active backend (mean and rstd into the backward kernel are the cpu forward's). */
async function kernelOutputs(cpuForward?: Float32Array[][]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const [i, c] of LAYER_NORM_CASES.entries()) {
    const dim = c.shape[c.shape.length - 1]!;
    const rows = c.x.length / dim;
    const fwd = await runKernel(LAYER_NORM_KERNEL, { x: input(c.shape, c.x), gamma: input([dim], c.gamma), beta: input([dim], c.beta) }, { eps: c.eps });
    out.push(fwd);
    const [, mean, rstd] = cpuForward ? cpuForward[2 * i]! : fwd;
    const inputs = { dy: input(c.shape, c.dy), x: input(c.shape, c.x), gamma: input([dim], c.gamma), mean: input([rows], mean!), rstd: input([rows], rstd!) };
    out.push(await runKernel(LAYER_NORM_GRAD_KERNEL, inputs, {}));
  }
  for (const form of FORMS) {
    for (const [i, x] of GELU_INPUTS.entries()) {
      out.push(await runKernel(GELU_KERNEL, { x }, { form }));
      out.push(await runKernel(GELU_GRAD_KERNEL, { dy: input(x.shape, geluDy(i)), x }, { form }));
    }
  }
  return out;
}

function compareKernels(gpu: Float32Array[][], cpu: Float32Array[][]): Diff[] {
  const diffs: Diff[] = [];
  let k = 0;
  for (const c of LAYER_NORM_CASES) {
    const s = `[${c.shape}]`;
    const [y, mean, rstd] = gpu[k]!;
    const [ry, rmean, rrstd] = cpu[k++]!;
    diffs.push(diff(`LayerNorm ${s} y`, y!, ry!, 1e-5, 1e-4));
    diffs.push(diff(`LayerNorm ${s} mean`, mean!, rmean!, 1e-5, 1e-4));
    diffs.push(diff(`LayerNorm ${s} rstd`, rstd!, rrstd!, 1e-5, 1e-4));
    const [dx, dgamma, dbeta] = gpu[k]!;
    const [rdx, rdgamma, rdbeta] = cpu[k++]!;
    const [gScale, bScale] = columnScales(c, rmean!, rrstd!);
    diffs.push(diff(`LayerNormGrad ${s} dx`, dx!, rdx!, 1e-5, 1e-4));
    diffs.push(diff(`LayerNormGrad ${s} dgamma`, dgamma!, rdgamma!, 1e-5, 1e-5, gScale));
    diffs.push(diff(`LayerNormGrad ${s} dbeta`, dbeta!, rdbeta!, 1e-5, 1e-5, bScale));
  }
  for (const form of FORMS) {
    for (const [i, x] of GELU_INPUTS.entries()) {
      const s = `${form} [${x.shape}]`;
      const [y, dx] = [gpu[k]![0]!, gpu[k + 1]![0]!];
      const [ry, rdx] = [cpu[k]![0]!, cpu[k + 1]![0]!];
      k += 2;
      if (x.cpu) {
        diffs.push(diff(`Gelu ${s} y vs cpu`, y, ry, 1e-5, 1e-4));
        diffs.push(diff(`GeluGrad ${s} dx vs cpu`, dx, rdx, 1e-5, 1e-4));
      }
      diffs.push(diff(`Gelu ${s} y vs double`, y, gelu64(form, x.values), 1e-5, 1e-4));
      diffs.push(diff(`GeluGrad ${s} dx vs double`, dx, gelu64(form, x.values, geluDy(i)), 1e-5, 1e-4));
    }
  }
  return diffs;
}

// ---------------------------------------------------------------- gradients of a composite

const ACTS = { exact: gelu, tanh: geluTanh, quick: quickGelu } as const;

interface GradCase {
  form: keyof typeof ACTS;
  shape: number[];
}
/** One shape for the three forms: the composite path's LayerNorm shaders compile once. */
const GRAD_CASES: GradCase[] = [
  { form: 'exact', shape: [4, 33, 96] },
  { form: 'tanh', shape: [4, 33, 96] },
  { form: 'quick', shape: [4, 33, 96] },
];

/** d/d(x, gamma, beta) of sum(w * act(layerNorm(x, gamma, beta))) on the active backend, through whichever path it has. */
async function compositeGrads(c: GradCase, seed: number): Promise<Float32Array[]> {
  const dim = c.shape[c.shape.length - 1]!;
  const n = size(c.shape);
  const x = tf.tensor(normal(n, seed, 0.5, 1.5), c.shape);
  const gamma = tf.tensor1d(normal(dim, seed + 1, 1, 0.1));
  const beta = tf.tensor1d(normal(dim, seed + 2, 0, 0.1));
  const w = tf.tensor(normal(n, seed + 3), c.shape);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.sum(tf.mul(w, ACTS[c.form](layerNorm(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5))));
  const grads = tf.grads(f)([x, gamma, beta]);
  const values = await Promise.all(grads.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([x, gamma, beta, w, ...grads]);
  return values;
}

/**
 * Gradients: |a - b| <= 1e-5 + 1e-5 max|ref| over the tensor. Each element
 * is a float32 sum of many terms (through LayerNorm's row means and the
 * column sums), so one near 0 is there by cancellation: it is judged against
 * the gradient's scale, not its own.
 */
const GRAD_ATOL = 1e-5;
const GRAD_RTOL = 1e-5;

// ---------------------------------------------------------------- launches, memory, timing

let launches = 0;

/** Counts every shader program the backend runs (tfjs's own kernels included) from now on. */
function countLaunches(backendName: GpuBackend): void {
  const backend = tf.findBackend(backendName) as unknown as Record<string, unknown> & { vkCounted?: boolean };
  if (backend.vkCounted) return;
  const key = backendName === 'webgl' ? 'runWebGLProgram' : 'runWebGPUProgram';
  const run = backend[key] as (...args: unknown[]) => unknown;
  backend[key] = function (this: unknown, ...args: unknown[]) {
    launches++;
    return run.apply(this, args);
  };
  backend.vkCounted = true;
}

/** Runs `fn` and waits for its outputs, then disposes them. */
async function settle(fn: () => tf.Tensor[]): Promise<void> {
  const outs = fn();
  await Promise.all(outs.map((o) => o.data()));
  tf.dispose(outs);
}

/** Programs launched by one call of `fn`, after one that compiles and uploads (so `fn` is warm afterwards). */
async function launchesOf(fn: () => tf.Tensor[]): Promise<number> {
  await settle(fn);
  const before = launches;
  await settle(fn);
  return launches - before;
}

/**
 * Median ms of up to `runs` calls of a warm `fn`, fewer (at least 5) once
 * `budgetMs` is spent: SwiftShader takes up to a second a call on some
 * paths, and the test must stay short.
 */
async function medianMs(fn: () => tf.Tensor[], runs: number, budgetMs: number): Promise<{ ms: number; runs: number }> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs && (times.length < 5 || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    await settle(fn);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, runs: times.length };
}

const dataIds = (): number => tf.engine().backend.numDataIds();

/** The benchmarks, each d/d(inputs) with a given dy: LayerNorm [2048, 96] and GELU [2048, 192]. */
function benchmarks(): { cases: { what: string; fn: () => tf.Tensor[] }[]; dispose: () => void } {
  const x = tf.tensor(normal(2048 * 96, 11), [2048, 96]);
  const gamma = tf.tensor1d(normal(96, 12, 1, 0.1));
  const beta = tf.tensor1d(normal(96, 13, 0, 0.1));
  const dy = tf.tensor(normal(2048 * 96, 14), [2048, 96]);
  const gx = tf.tensor(normal(2048 * 192, 15, 0, 3), [2048, 192]);
  const gdy = tf.tensor(normal(2048 * 192, 16), [2048, 192]);
  const ln = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => layerNorm(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
  return {
    cases: [
      { what: 'LayerNorm [2048,96] fwd', fn: () => [tf.tidy(() => ln(x, gamma, beta))] },
      { what: 'LayerNorm [2048,96] fwd+bwd', fn: () => tf.tidy(() => tf.grads(ln)([x, gamma, beta], dy)) },
      { what: 'GELU [2048,192] fwd', fn: () => [tf.tidy(() => gelu(gx))] },
      { what: 'GELU [2048,192] fwd+bwd', fn: () => [tf.tidy(() => tf.grad((a: tf.Tensor) => gelu(a))(gx, gdy))] },
    ],
    dispose: () => tf.dispose([x, gamma, beta, dy, gx, gdy]),
  };
}

/** Each kernel once, directly, on small inputs (the memory probe). */
async function eachKernelOnce(): Promise<void> {
  const c = LAYER_NORM_CASES[1]!;
  const dim = c.shape[c.shape.length - 1]!;
  const [, mean, rstd] = await runKernel(LAYER_NORM_KERNEL, { x: input(c.shape, c.x), gamma: input([dim], c.gamma), beta: input([dim], c.beta) }, { eps: c.eps });
  const rows = c.x.length / dim;
  await runKernel(LAYER_NORM_GRAD_KERNEL, { dy: input(c.shape, c.dy), x: input(c.shape, c.x), gamma: input([dim], c.gamma), mean: input([rows], mean!), rstd: input([rows], rstd!) }, {});
  const x = GELU_INPUTS[2]!;
  for (const form of FORMS) {
    await runKernel(GELU_KERNEL, { x }, { form });
    await runKernel(GELU_GRAD_KERNEL, { dy: x, x }, { form });
  }
}

// ---------------------------------------------------------------- the run

let cpuKernels: Float32Array[][] | undefined;
let cpuGrads: Float32Array[][] | undefined;

async function run(backend: GpuBackend): Promise<Report> {
  const notes: string[] = [];
  const phases: string[] = [];
  let mark = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    phases.push(`${name} ${((now - mark) / 1000).toFixed(1)} s`);
    mark = now;
  };
  // The reference: the cpu kernels (and their gradients), computed once for both backends.
  if (!cpuKernels || !cpuGrads) {
    await use('cpu');
    installFusedKernels('cpu');
    if (!tf.getKernel(GELU_KERNEL, 'cpu')) throw new Error('the cpu GELU kernel is not registered (no wasm SIMD?): no reference');
    cpuKernels = await kernelOutputs();
    cpuGrads = [];
    for (const [i, c] of GRAD_CASES.entries()) cpuGrads.push(await compositeGrads(c, 1000 + 10 * i));
    phase('cpu reference');
  }
  const install: Record<string, boolean> = {
    'installGpuKernels(cpu)': installGpuKernels('cpu'),
    'installGpuKernels(wasm)': installGpuKernels('wasm'),
    'installGpuKernels(nope)': installGpuKernels('nope'),
  };
  await use(backend);
  const active = tf.getBackend();
  if (backend === 'webgl') {
    notes.push(`WEBGL_VERSION ${tf.env().getNumber('WEBGL_VERSION')}, float32 render ${tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')}, pack ${tf.env().getBool('WEBGL_PACK')}`);
  } else {
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    notes.push(`WebGPU adapter ${info?.vendor ?? '?'} ${info?.architecture ?? ''}`.trim());
  }
  install[`installGpuKernels(${backend})`] = installGpuKernels(backend);
  install[`installGpuKernels(${backend}) again`] = installGpuKernels(backend);
  // The public entry (what setupBackend calls) delegates to the GPU kernels for this backend.
  install[`installFusedKernels(${backend})`] = installFusedKernels(backend);
  install[`${backend} has all four kernels`] = [LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL, GELU_KERNEL, GELU_GRAD_KERNEL].every((k) => tf.getKernel(k, backend) !== undefined);
  countLaunches(backend);

  const kernels = compareKernels(await kernelOutputs(cpuKernels), cpuKernels);
  phase('kernels');

  // Gradients of sum(w * act(layerNorm(x))): kernel path, then composite path (kernels removed), vs the cpu kernels.
  const grads: Diff[] = [];
  const compositeVsCpu: Diff[] = [];
  const names = ['dx', 'dgamma', 'dbeta'];
  for (const [i, c] of GRAD_CASES.entries()) {
    const seed = 1000 + 10 * i;
    const fused = await compositeGrads(c, seed);
    install[`uninstallGpuKernels(${backend})`] = uninstallGpuKernels(backend);
    const composite = await compositeGrads(c, seed);
    installGpuKernels(backend);
    for (const [k, name] of names.entries()) {
      const ref = cpuGrads[i]![k]!;
      const what = `${c.form} [${c.shape}] ${name}`;
      grads.push(diff(`kernels vs cpu: ${what}`, fused[k]!, ref, GRAD_ATOL, GRAD_RTOL, maxAbsOf(ref)));
      grads.push(diff(`kernels vs composite: ${what}`, fused[k]!, composite[k]!, GRAD_ATOL, GRAD_RTOL, maxAbsOf(composite[k]!)));
      compositeVsCpu.push(diff(`composite vs cpu: ${what}`, composite[k]!, ref, GRAD_ATOL, GRAD_RTOL, maxAbsOf(ref)));
    }
  }
  install[`uninstallGpuKernels(${backend}) again`] = uninstallGpuKernels(backend);
  installGpuKernels(backend);
  phase('gradients');

  // Memory: tensors (engine) and data buffers (backend: catches undisposed intermediates) over repeated calls.
  const memory: Report['memory'] = [];
  const c = GRAD_CASES[0]!;
  const probes: [string, () => Promise<unknown>][] = [
    ['tf.grads of sum(w * gelu(layerNorm(x))) x5', () => compositeGrads(c, 7)],
    ['each kernel called directly x5', eachKernelOnce],
  ];
  for (const [what, probe] of probes) {
    await probe();
    const before: [number, number] = [tf.memory().numTensors, dataIds()];
    for (let i = 0; i < 5; i++) await probe();
    memory.push({ what, numTensors: [before[0], tf.memory().numTensors], numDataIds: [before[1], dataIds()] });
  }
  phase('memory');

  // Launch counts and timing, kernels vs composite ops.
  const launchCounts: Report['launches'] = [];
  const timing: Report['timing'] = [];
  const bench = benchmarks();
  for (const b of bench.cases) {
    const kernel = await launchesOf(b.fn);
    const fused = await medianMs(b.fn, 20, 1500);
    uninstallGpuKernels(backend);
    const composite = await launchesOf(b.fn);
    const plain = await medianMs(b.fn, 20, 1500);
    installGpuKernels(backend);
    launchCounts.push({ what: b.what, kernel, composite });
    timing.push({ what: b.what, runs: [fused.runs, plain.runs], kernelMs: fused.ms, compositeMs: plain.ms });
  }
  bench.dispose();
  phase('launches and timing');
  notes.push(`phases: ${phases.join(', ')}`);

  return { backend, active, notes, install, kernels, grads, compositeVsCpu, memory, launches: launchCounts, timing };
}

window.gpuKernelTest = { run };
