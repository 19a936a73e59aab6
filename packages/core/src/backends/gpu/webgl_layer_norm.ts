import type * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from '../fused/storage.js';
import { rowsOf } from './rows.js';
import { webglReshape, webglZeros, type GpgpuProgram, type WebGLBackendLike } from './webgl_program.js';

/**
 * VitkitLayerNorm and VitkitLayerNormGrad on WebGL, with the semantics of the
 * cpu kernels (fused/layer_norm.ts) in float32 shaders.
 *
 * Forward, 3 launches: row mean, row rstd (from the deviations: two passes,
 * not E[x^2] - E[x]^2), then y elementwise. Backward, 4 launches (6 over
 * 64 rows): per row mean_D(g) and mean_D(g xhat) (g = dy gamma), dx
 * elementwise, and dgamma, dbeta as column sums. A fragment shader has no
 * shared memory, so a column sum over many rows runs in two stages (blocks of
 * ROW_BLOCK rows, then the blocks): more threads, and shorter float32 sums.
 *
 * The shaders see x and dy as [rows, D] (a free reshape of an unpacked
 * texture), so one set of programs serves every rank.
 */

/** Rows one thread sums in the first stage of a column sum. */
const ROW_BLOCK = 64;

/**
 * Per row: the mean, corrected: m = sum(x) / D, then m + sum(x - m) / D. The
 * second sum, over deviations, recovers the first one's rounding, which
 * grows with the row's common offset (float32, sequential).
 */
class LayerNormMeanProgram implements GpgpuProgram {
  variableNames = ['x'];
  outputShape: number[];
  userCode: string;
  constructor(rows: number, dim: number) {
    this.outputShape = [rows];
    this.userCode = `
      void main() {
        int r = getOutputCoords();
        float s = 0.0;
        for (int j = 0; j < ${dim}; j++) {
          s += getX(r, j);
        }
        float m = s / ${dim}.0;
        float c = 0.0;
        for (int j = 0; j < ${dim}; j++) {
          c += getX(r, j) - m;
        }
        setOutput(m + c / ${dim}.0);
      }`;
  }
}

/** Per row: 1 / sqrt(var + eps), var the biased variance of the deviations from the stored mean. */
class LayerNormRstdProgram implements GpgpuProgram {
  variableNames = ['x', 'mean'];
  outputShape: number[];
  userCode: string;
  customUniforms = [{ name: 'eps', type: 'float' as const }];
  constructor(rows: number, dim: number) {
    this.outputShape = [rows];
    this.userCode = `
      void main() {
        int r = getOutputCoords();
        float m = getMean(r);
        float ss = 0.0;
        for (int j = 0; j < ${dim}; j++) {
          float d = getX(r, j) - m;
          ss += d * d;
        }
        setOutput(1.0 / sqrt(ss / ${dim}.0 + eps));
      }`;
  }
}

/** y = (x - mean) rstd gamma + beta, elementwise over [rows, D]. */
class LayerNormApplyProgram implements GpgpuProgram {
  variableNames = ['x', 'mean', 'rstd', 'gamma', 'beta'];
  outputShape: number[];
  userCode = `
    void main() {
      ivec2 c = getOutputCoords();
      setOutput((getX(c.x, c.y) - getMean(c.x)) * getRstd(c.x) * getGamma(c.y) + getBeta(c.y));
    }`;
  constructor(rows: number, dim: number) {
    this.outputShape = [rows, dim];
  }
}

/** Per row, [mean_D(g), mean_D(g xhat)] with g = dy gamma, xhat = (x - mean) rstd: output [rows, 2]. */
class LayerNormRowGradProgram implements GpgpuProgram {
  variableNames = ['dy', 'x', 'gamma', 'mean', 'rstd'];
  outputShape: number[];
  userCode: string;
  constructor(rows: number, dim: number) {
    this.outputShape = [rows, 2];
    this.userCode = `
      void main() {
        ivec2 c = getOutputCoords();
        int r = c.x;
        float s = 0.0;
        if (c.y == 0) {
          for (int j = 0; j < ${dim}; j++) {
            s += getDy(r, j) * getGamma(j);
          }
        } else {
          float m = getMean(r);
          for (int j = 0; j < ${dim}; j++) {
            s += getDy(r, j) * getGamma(j) * (getX(r, j) - m);
          }
          s *= getRstd(r);
        }
        setOutput(s / ${dim}.0);
      }`;
  }
}

/** dx = rstd (g - mean_D(g) - xhat mean_D(g xhat)), elementwise over [rows, D]. */
class LayerNormDxProgram implements GpgpuProgram {
  variableNames = ['dy', 'x', 'gamma', 'mean', 'rstd', 'sums'];
  outputShape: number[];
  userCode = `
    void main() {
      ivec2 c = getOutputCoords();
      float rs = getRstd(c.x);
      float xhat = (getX(c.x, c.y) - getMean(c.x)) * rs;
      setOutput(rs * (getDy(c.x, c.y) * getGamma(c.y) - getSums(c.x, 0) - xhat * getSums(c.x, 1)));
    }`;
  constructor(rows: number, dim: number) {
    this.outputShape = [rows, dim];
  }
}

/** Which column sum: dgamma sums dy xhat, dbeta sums dy. */
type ColumnTerm = 'dgamma' | 'dbeta';

const TERM: Record<ColumnTerm, { inputs: string[]; expr: string }> = {
  dgamma: { inputs: ['dy', 'x', 'mean', 'rstd'], expr: 'getDy(r, j) * (getX(r, j) - getMean(r)) * getRstd(r)' },
  dbeta: { inputs: ['dy'], expr: 'getDy(r, j)' },
};

/**
 * Column sums of a term over rows [b ROW_BLOCK, (b+1) ROW_BLOCK): output
 * [blocks, D], or [D] when one block holds every row.
 */
class ColumnBlockSumProgram implements GpgpuProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  constructor(term: ColumnTerm, rows: number, dim: number) {
    const blocks = Math.ceil(rows / ROW_BLOCK);
    this.variableNames = TERM[term].inputs;
    this.outputShape = blocks === 1 ? [dim] : [blocks, dim];
    this.userCode = `
      void main() {
        ${blocks === 1 ? 'int b = 0; int j = getOutputCoords();' : 'ivec2 c = getOutputCoords(); int b = c.x; int j = c.y;'}
        float s = 0.0;
        for (int i = 0; i < ${ROW_BLOCK}; i++) {
          int r = b * ${ROW_BLOCK} + i;
          if (r >= ${rows}) break;
          s += ${TERM[term].expr};
        }
        setOutput(s);
      }`;
  }
}

/** Second stage: [blocks, D] summed over blocks to [D]. */
class ColumnSumProgram implements GpgpuProgram {
  variableNames = ['partial'];
  outputShape: number[];
  userCode: string;
  constructor(blocks: number, dim: number) {
    this.outputShape = [dim];
    this.userCode = `
      void main() {
        int j = getOutputCoords();
        float s = 0.0;
        for (int b = 0; b < ${blocks}; b++) {
          s += getPartial(b, j);
        }
        setOutput(s);
      }`;
  }
}

function columnSum(backend: WebGLBackendLike, term: ColumnTerm, inputs: tf.TensorInfo[], rows: number, dim: number): tf.TensorInfo {
  const partial = backend.runWebGLProgram(new ColumnBlockSumProgram(term, rows, dim), inputs, 'float32');
  if (partial.shape.length === 1) return partial;
  const sum = backend.runWebGLProgram(new ColumnSumProgram(partial.shape[0]!, dim), [partial], 'float32');
  backend.disposeIntermediateTensorInfo(partial);
  return sum;
}

/**
 * Views of x-shaped tensors as [rows, D] for the shaders, and the way back.
 * Views made here are released by `dispose`.
 */
function rowViews(backend: WebGLBackendLike, shape: number[], rows: number, dim: number) {
  const made: tf.TensorInfo[] = [];
  const flat = shape.length !== 2;
  return {
    in: (t: tf.TensorInfo): tf.TensorInfo => {
      if (!flat) return t;
      const v = webglReshape(backend, t, [rows, dim]);
      made.push(v);
      return v;
    },
    /** A [rows, D] program output as an output of `shape` (the 2-D one is released). */
    out: (t: tf.TensorInfo): tf.TensorInfo => {
      if (!flat) return t;
      const v = webglReshape(backend, t, shape);
      backend.disposeIntermediateTensorInfo(t);
      return v;
    },
    dispose: () => made.forEach((t) => backend.disposeIntermediateTensorInfo(t)),
  };
}

export function webglLayerNorm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGLBackendLike;
  const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const eps = args.attrs!['eps'] as number;
  const { dim, rows } = rowsOf(x);
  if (rows === 0) return [webglZeros(backend, x.shape), webglZeros(backend, [rows]), webglZeros(backend, [rows])];
  const views = rowViews(backend, x.shape, rows, dim);
  const x2 = views.in(x);
  const mean = backend.runWebGLProgram(new LayerNormMeanProgram(rows, dim), [x2], 'float32');
  const rstd = backend.runWebGLProgram(new LayerNormRstdProgram(rows, dim), [x2, mean], 'float32', [[eps]]);
  const y = backend.runWebGLProgram(new LayerNormApplyProgram(rows, dim), [x2, mean, rstd, gamma, beta], 'float32');
  views.dispose();
  return [views.out(y), mean, rstd];
}

export function webglLayerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGLBackendLike;
  const { dy, x, gamma, mean, rstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'rstd', tf.TensorInfo>;
  const { dim, rows } = rowsOf(x);
  if (rows === 0) return [webglZeros(backend, x.shape), webglZeros(backend, [dim]), webglZeros(backend, [dim])];
  const views = rowViews(backend, x.shape, rows, dim);
  const dy2 = views.in(dy);
  const x2 = views.in(x);
  const sums = backend.runWebGLProgram(new LayerNormRowGradProgram(rows, dim), [dy2, x2, gamma, mean, rstd], 'float32');
  const dx = backend.runWebGLProgram(new LayerNormDxProgram(rows, dim), [dy2, x2, gamma, mean, rstd, sums], 'float32');
  backend.disposeIntermediateTensorInfo(sums);
  const dgamma = columnSum(backend, 'dgamma', [dy2, x2, mean, rstd], rows, dim);
  const dbeta = columnSum(backend, 'dbeta', [dy2], rows, dim);
  views.dispose();
  return [views.out(dx), dgamma, dbeta];
}
