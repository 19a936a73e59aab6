import type * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from '../fused/storage.js';
import { rowsOf } from './rows.js';
import { flatDispatch, flatLayout, treeSum, webgpuZeros, type ProgramUniform, type WebGPUBackendLike, type WebGPUProgram } from './webgpu_program.js';

/**
 * VitkitLayerNorm and VitkitLayerNormGrad on WebGPU, with the semantics of the
 * cpu kernels (fused/layer_norm.ts) in float32 compute shaders.
 *
 * Forward, 3 launches: row mean and row rstd (one workgroup per row, its
 * lanes' partial sums added in shared memory; the mean corrected by a sum of
 * deviations, rstd from the deviations: not E[x^2] - E[x]^2), then y
 * elementwise. Backward, 3 launches: dx (one workgroup per row reduces
 * mean_D(g) and mean_D(g xhat) in shared memory, then writes the row), and
 * dgamma, dbeta as column sums (a workgroup per 16 columns, 16 lanes down
 * the rows each). Inputs are read as flat arrays, so any rank is [rows, D];
 * rows and D are uniforms (one pipeline per program whatever the shape).
 */

/** Lanes per row in the row programs. */
const ROW_LANES = 64;
/** Columns per workgroup, and lanes per column, in the column sums. */
const COLS = 16;
const COL_LANES = 16;

const shape = (rows: number, dim: number): ProgramUniform[] => [
  { type: 'int32', data: [rows] },
  { type: 'int32', data: [dim] },
];

/** One workgroup of ROW_LANES per row; `main(index)` gets row * ROW_LANES + lane. */
abstract class RowProgram implements WebGPUProgram {
  abstract shaderKey: string;
  abstract variableNames: string[];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ROW_LANES, 1, 1];
  uniforms = 'rows : i32, dim : i32,';
  constructor(outputShape: number[], rows: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = flatLayout(outputShape);
    this.dispatch = [rows, 1, 1];
  }
  abstract getUserCode(): string;
}

const ROW_HEADER = `
        let row = index / ${ROW_LANES};
        let lane = index - row * ${ROW_LANES};
        let live = row < uniforms.rows;
        let base = row * uniforms.dim;`;

/**
 * Per row: the mean, corrected: m = sum(x) / D, then m + sum(x - m) / D (the
 * sum over deviations recovers the first one's rounding, which grows with the
 * row's common offset).
 */
class MeanProgram extends RowProgram {
  shaderKey = 'vitkit_layer_norm_mean';
  variableNames = ['x'];
  getUserCode(): string {
    return `
      var<workgroup> vkSum : array<f32, ${ROW_LANES}>;
      fn main(index : i32) {
        ${ROW_HEADER}
        var s = 0.0;
        if (live) {
          for (var j = lane; j < uniforms.dim; j = j + ${ROW_LANES}) {
            s = s + x[base + j];
          }
        }
        vkSum[lane] = s;
        ${treeSum(['vkSum'], 'lane', ROW_LANES)}
        let m = vkSum[0] / f32(uniforms.dim);
        // Every lane has read vkSum[0] before lane 0 overwrites it.
        workgroupBarrier();
        var c = 0.0;
        if (live) {
          for (var j = lane; j < uniforms.dim; j = j + ${ROW_LANES}) {
            c = c + (x[base + j] - m);
          }
        }
        vkSum[lane] = c;
        ${treeSum(['vkSum'], 'lane', ROW_LANES)}
        if (live && lane == 0) {
          setOutputAtIndex(row, m + vkSum[0] / f32(uniforms.dim));
        }
      }`;
  }
}

/** Per row: 1 / sqrt(var + eps), var the biased variance of the deviations from the stored mean. */
class RstdProgram extends RowProgram {
  shaderKey = 'vitkit_layer_norm_rstd';
  variableNames = ['x', 'mean'];
  override uniforms = 'rows : i32, dim : i32, eps : f32,';
  getUserCode(): string {
    return `
      var<workgroup> vkSum : array<f32, ${ROW_LANES}>;
      fn main(index : i32) {
        ${ROW_HEADER}
        var s = 0.0;
        if (live) {
          let m = mean[row];
          for (var j = lane; j < uniforms.dim; j = j + ${ROW_LANES}) {
            let d = x[base + j] - m;
            s = s + d * d;
          }
        }
        vkSum[lane] = s;
        ${treeSum(['vkSum'], 'lane', ROW_LANES)}
        if (live && lane == 0) {
          setOutputAtIndex(row, 1.0 / sqrt(vkSum[0] / f32(uniforms.dim) + uniforms.eps));
        }
      }`;
  }
}

/**
 * dx = rstd (g - mean_D(g) - xhat mean_D(g xhat)), g = dy gamma, xhat =
 * (x - mean) rstd: the workgroup first reduces both means, then writes its row.
 */
class DxProgram extends RowProgram {
  shaderKey = 'vitkit_layer_norm_dx';
  variableNames = ['dy', 'x', 'gamma', 'mean', 'rstd'];
  getUserCode(): string {
    return `
      var<workgroup> vkG : array<f32, ${ROW_LANES}>;
      var<workgroup> vkGX : array<f32, ${ROW_LANES}>;
      fn main(index : i32) {
        ${ROW_HEADER}
        var sg = 0.0;
        var sgx = 0.0;
        var m = 0.0;
        var rs = 0.0;
        if (live) {
          m = mean[row];
          rs = rstd[row];
          for (var j = lane; j < uniforms.dim; j = j + ${ROW_LANES}) {
            let g = dy[base + j] * gamma[j];
            sg = sg + g;
            sgx = sgx + g * (x[base + j] - m);
          }
        }
        vkG[lane] = sg;
        vkGX[lane] = sgx;
        ${treeSum(['vkG', 'vkGX'], 'lane', ROW_LANES)}
        if (live) {
          let mg = vkG[0] / f32(uniforms.dim);
          let mgx = vkGX[0] * rs / f32(uniforms.dim);
          for (var j = lane; j < uniforms.dim; j = j + ${ROW_LANES}) {
            let xhat = (x[base + j] - m) * rs;
            setOutputAtIndex(base + j, rs * (dy[base + j] * gamma[j] - mg - xhat * mgx));
          }
        }
      }`;
  }
}

/** y = (x - mean) rstd gamma + beta, one invocation per element. */
class ApplyProgram implements WebGPUProgram {
  shaderKey = 'vitkit_layer_norm_apply';
  variableNames = ['x', 'mean', 'rstd', 'gamma', 'beta'];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'rows : i32, dim : i32,';
  size = true;
  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = flatLayout(outputShape);
    this.dispatch = flatDispatch(outputShape, this.workgroupSize[0]);
  }
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let r = index / uniforms.dim;
          let j = index - r * uniforms.dim;
          setOutputAtIndex(index, (x[index] - mean[r]) * rstd[r] * gamma[j] + beta[j]);
        }
      }`;
  }
}

/** Which column sum: dgamma sums dy xhat, dbeta sums dy. */
type ColumnTerm = 'dgamma' | 'dbeta';

const TERM: Record<ColumnTerm, { inputs: string[]; expr: string }> = {
  dgamma: { inputs: ['dy', 'x', 'mean', 'rstd'], expr: 'dy[i] * (x[i] - mean[r]) * rstd[r]' },
  dbeta: { inputs: ['dy'], expr: 'dy[i]' },
};

/**
 * Column sums over the rows: a workgroup per COLS columns, COL_LANES lanes
 * each walking every COL_LANES-th row of its column (neighbouring
 * invocations read neighbouring columns), then a tree over the lanes.
 */
class ColumnSumProgram implements WebGPUProgram {
  shaderKey: string;
  variableNames: string[];
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [COLS * COL_LANES, 1, 1];
  uniforms = 'rows : i32, dim : i32,';
  private expr: string;
  constructor(term: ColumnTerm, dim: number) {
    this.shaderKey = `vitkit_layer_norm_${term}`;
    this.variableNames = TERM[term].inputs;
    this.expr = TERM[term].expr;
    this.outputShape = [dim];
    this.dispatch = [Math.ceil(dim / COLS), 1, 1];
  }
  getUserCode(): string {
    const n = COLS * COL_LANES;
    return `
      var<workgroup> vkCol : array<f32, ${n}>;
      fn main(index : i32) {
        let group = index / ${n};
        let slot = index - group * ${n};
        let col = group * ${COLS} + slot % ${COLS};
        var s = 0.0;
        if (col < uniforms.dim) {
          for (var r = slot / ${COLS}; r < uniforms.rows; r = r + ${COL_LANES}) {
            let i = r * uniforms.dim + col;
            s = s + ${this.expr};
          }
        }
        vkCol[slot] = s;
        ${treeSum(['vkCol'], 'slot', COL_LANES, COLS)}
        if (slot < ${COLS} && col < uniforms.dim) {
          setOutputAtIndex(col, vkCol[slot]);
        }
      }`;
  }
}

export function webgpuLayerNorm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const eps = args.attrs!['eps'] as number;
  const { dim, rows } = rowsOf(x);
  if (rows === 0) return [webgpuZeros(backend, x.shape), webgpuZeros(backend, [rows]), webgpuZeros(backend, [rows])];
  const mean = backend.runWebGPUProgram(new MeanProgram([rows], rows), [x], 'float32', shape(rows, dim));
  const rstd = backend.runWebGPUProgram(new RstdProgram([rows], rows), [x, mean], 'float32', [...shape(rows, dim), { type: 'float32', data: [eps] }]);
  const y = backend.runWebGPUProgram(new ApplyProgram(x.shape), [x, mean, rstd, gamma, beta], 'float32', shape(rows, dim));
  return [y, mean, rstd];
}

export function webgpuLayerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, gamma, mean, rstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'rstd', tf.TensorInfo>;
  const { dim, rows } = rowsOf(x);
  if (rows === 0) return [webgpuZeros(backend, x.shape), webgpuZeros(backend, [dim]), webgpuZeros(backend, [dim])];
  const dx = backend.runWebGPUProgram(new DxProgram(x.shape, rows), [dy, x, gamma, mean, rstd], 'float32', shape(rows, dim));
  const dgamma = backend.runWebGPUProgram(new ColumnSumProgram('dgamma', dim), [dy, x, mean, rstd], 'float32', shape(rows, dim));
  const dbeta = backend.runWebGPUProgram(new ColumnSumProgram('dbeta', dim), [dy], 'float32', shape(rows, dim));
  return [dx, dgamma, dbeta];
}
