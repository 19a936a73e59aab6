import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';
import { maybeGunzip } from './gzip.js';

/** An array read from an IDX file (the MNIST format): big-endian header, C-order data. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { size: number; name: string }> = {
  0x08: { size: 1, name: 'uint8' },
  0x09: { size: 1, name: 'int8' },
  0x0b: { size: 2, name: 'int16' },
  0x0c: { size: 4, name: 'int32' },
  0x0d: { size: 4, name: 'float32' },
  0x0e: { size: 8, name: 'float64' },
};

export interface ParseIdxOptions {
  /** Refuse gzipped files that inflate to more than this (default 2 GiB). */
  maxBytes?: number;
}

/** The size an IDX file must have per its header, or undefined when the header is incomplete or invalid. */
export function idxSizeFromHeader(head: Uint8Array): number | undefined {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return undefined;
  const type = TYPES[head[2]!];
  const rank = head[3]!;
  if (!type || rank < 1 || rank > 8 || head.length < 4 + 4 * rank) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let i = 0; i < rank; i++) count *= view.getUint32(4 + 4 * i, false);
  return 4 + 4 * rank + count * type.size;
}

/**
 * Parses IDX bytes, gzipped or not. `what` names the source in errors.
 * Gzipped data is inflated no further than the size its IDX header needs.
 */
export function parseIdx(raw: Uint8Array, what = 'IDX data', options: ParseIdxOptions = {}): IdxArray {
  const bytes = maybeGunzip(raw, what, { expectedSize: idxSizeFromHeader, ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) });
  const bad = (reason: string): DataError => new DataError(`${what} is not a valid IDX file: ${reason}`, 'use the MNIST / Fashion-MNIST files as distributed (gzipped or not)');
  if (bytes.length < 4) throw bad('too short');
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad('the first two bytes must be zero');
  const type = TYPES[bytes[2]!];
  if (!type) throw bad(`unknown element type 0x${bytes[2]!.toString(16)}`);
  const rank = bytes[3]!;
  if (rank < 1 || rank > 8) throw bad(`unsupported rank ${rank}`);
  const headerEnd = 4 + 4 * rank;
  if (bytes.length < headerEnd) throw bad('header is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - headerEnd < count * type.size) {
    throw bad(`data is truncated: shape [${shape.join(', ')}] needs ${count * type.size} bytes, found ${bytes.length - headerEnd}`);
  }
  const body = bytes.subarray(headerEnd, headerEnd + count * type.size);
  switch (type.name) {
    case 'uint8':
      return { shape, data: body.slice() };
    case 'int8':
      return { shape, data: new Int8Array(body.slice().buffer) };
    default: {
      // Multi-byte IDX values are big-endian.
      const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (type.name === 'int16') return { shape, data: Int16Array.from({ length: count }, (_, i) => bv.getInt16(2 * i, false)) };
      if (type.name === 'int32') return { shape, data: Int32Array.from({ length: count }, (_, i) => bv.getInt32(4 * i, false)) };
      if (type.name === 'float32') return { shape, data: Float32Array.from({ length: count }, (_, i) => bv.getFloat32(4 * i, false)) };
      return { shape, data: Float64Array.from({ length: count }, (_, i) => bv.getFloat64(8 * i, false)) };
    }
  }
}

/** Reads an IDX file from disk. */
export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the path', { cause: e });
  }
  return parseIdx(raw, path);
}

/** Serializes a uint8 array as IDX (used to write dataset subsets). */
export function serializeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new DataError(`IDX data has ${data.length} values but shape [${shape.join(', ')}] needs ${count}`);
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out[2] = 0x08;
  out[3] = shape.length;
  const view = new DataView(out.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
