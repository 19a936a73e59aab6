import { NonFiniteWeightsError, WeightsFormatError } from './errors.js';

/**
 * A tensor as plain typed-array data, before any tfjs tensor exists. Floats
 * of every width are decoded to Float32Array, integers to Int32Array, bytes
 * and booleans stay Uint8Array. Row-major (C order), PyTorch layouts.
 */
export type RawData = Float32Array | Int32Array | Uint8Array;

export interface RawTensor {
  shape: number[];
  data: RawData;
  /** The dtype the file stored (e.g. "BF16", "<f4"), for reporting. */
  sourceDtype?: string;
}

/** Tensors by name, in file order. */
export type RawTensors = Map<string, RawTensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Refuses tensors that hold NaN or an infinity (NonFiniteWeightsError naming
 * the first such tensor); integer tensors are skipped. One pass over the data,
 * no allocation. `where` (a file) prefixes the message.
 */
export function checkFinite(tensors: Iterable<readonly [string, Pick<RawTensor, 'data'>]>, where?: string): void {
  for (const [name, t] of tensors) {
    const d = t.data;
    if (!(d instanceof Float32Array)) continue;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      // v - v is 0 for finite numbers and NaN for NaN and the infinities.
      if (v - v !== 0) throw new NonFiniteWeightsError(name, v, i, where);
    }
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function emptyLike(data: RawData, length: number): RawData {
  if (data instanceof Float32Array) return new Float32Array(length);
  if (data instanceof Int32Array) return new Int32Array(length);
  return new Uint8Array(length);
}

/** Same data, new shape (no copy). */
export function reshapeRaw(t: RawTensor, shape: number[], name = 'tensor'): RawTensor {
  if (numel(shape) !== t.data.length) {
    throw new WeightsFormatError(`cannot reshape ${name} of shape [${t.shape.join(', ')}] to [${shape.join(', ')}]`);
  }
  return { shape, data: t.data };
}

/** Permutes axes, like numpy.transpose(t, perm). Copies. */
export function transposeRaw(t: RawTensor, perm: readonly number[]): RawTensor {
  const rank = t.shape.length;
  if (perm.length !== rank) throw new WeightsFormatError(`transpose of a rank-${rank} tensor needs ${rank} axes, got ${perm.length}`);
  const outShape = perm.map((p) => t.shape[p]!);
  const out = emptyLike(t.data, t.data.length);
  if (rank === 2 && perm[0] === 1) {
    transpose2d(t.data, out, t.shape[0]!, t.shape[1]!);
    return { shape: outShape, data: out };
  }
  // Strides of the input, visited in output order: an odometer over output
  // indices that keeps the matching input offset up to date incrementally.
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= t.shape[i]!;
  }
  const strides = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  const n = t.data.length;
  for (let o = 0; o < n; o++) {
    out[o] = t.data[src]!;
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]!++;
      src += strides[ax]!;
      if (idx[ax]! < outShape[ax]!) break;
      src -= strides[ax]! * outShape[ax]!;
      idx[ax] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** [rows, cols] -> [cols, rows] in cache-friendly tiles. */
function transpose2d(src: RawData, dst: RawData, rows: number, cols: number): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c]!;
      }
    }
  }
}

/** Concatenates along axis 0; all other axes must agree. */
export function concatRows(parts: readonly RawTensor[], name = 'tensor'): RawTensor {
  const first = parts[0];
  if (!first) throw new WeightsFormatError(`nothing to concatenate for ${name}`);
  const rest = first.shape.slice(1);
  let rows = 0;
  let length = 0;
  for (const p of parts) {
    if (!sameShape(p.shape.slice(1), rest) || p.data.constructor !== first.data.constructor) {
      throw new WeightsFormatError(
        `cannot stack the parts of ${name}: shapes ${parts.map((q) => `[${q.shape.join(', ')}]`).join(', ')} differ`,
      );
    }
    rows += p.shape[0] ?? 1;
    length += p.data.length;
  }
  const data = emptyLike(first.data, length);
  let at = 0;
  for (const p of parts) {
    data.set(p.data as never, at);
    at += p.data.length;
  }
  return { shape: [rows, ...rest], data };
}

/** Splits axis 0 into `count` equal parts (copies). */
export function splitRows(t: RawTensor, count: number, name = 'tensor'): RawTensor[] {
  const rows = t.shape[0];
  if (rows === undefined || rows % count !== 0) {
    throw new WeightsFormatError(`cannot split ${name} of shape [${t.shape.join(', ')}] into ${count} equal parts along axis 0`);
  }
  const each = t.data.length / count;
  const shape = [rows / count, ...t.shape.slice(1)];
  return Array.from({ length: count }, (_, i) => ({ shape: [...shape], data: t.data.slice(i * each, (i + 1) * each) }));
}
