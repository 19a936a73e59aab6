import { FormatError, parseNpy, serializeNpy, type NpyArray } from '@vitkit/core';
import { WeightsFormatError } from './errors.js';
import { transposeRaw, type RawTensor, type RawTensors } from './raw_tensor.js';
import { readZip, writeZip, type ReadZipOptions, type WriteZipOptions } from './zip.js';

/**
 * .npz archives (numpy.savez / savez_compressed): a zip of .npy files, one
 * per array, named by the array's key. The original JAX ViT checkpoints are
 * npz files keyed like `Transformer/encoderblock_0/LayerNorm_0/scale`.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Fortran-ordered arrays (numpy writes them for transposed views, as in the
 * JAX checkpoints' dense kernels) have the memory of the C-ordered array of
 * reversed shape. parseNpy reads C order only, so rewrite the header to the
 * reversed shape, parse, and transpose back.
 */
function fortranHeader(bytes: Uint8Array): { shape: number[]; dataStart: number; header: string } | undefined {
  if (bytes.length < 12 || !MAGIC.every((b, i) => bytes[i] === b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) return undefined;
  const [len, start] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  if (start + len > bytes.length) return undefined;
  const header = new TextDecoder().decode(bytes.subarray(start, start + len));
  if (!/'fortran_order'\s*:\s*True/.test(header)) return undefined;
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) return undefined;
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) return undefined;
  return { shape, dataStart: start + len, header };
}

function withHeader(header: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(12 + text.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 2; // version 2: 32-bit header length
  new DataView(out.buffer).setUint32(8, text.length, true);
  out.set(text, 12);
  out.set(data, 12 + text.length);
  return out;
}

function toRaw(a: NpyArray, descr: string): RawTensor {
  return { shape: a.shape, data: a.data, sourceDtype: descr };
}

/** Parses one .npy file, in C or Fortran order. */
export function parseNpyAnyOrder(bytes: Uint8Array): RawTensor {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 512))))?.[1] ?? '?';
  const fortran = fortranHeader(bytes);
  if (!fortran) return toRaw(parseNpy(bytes), descr);
  const reversed = [...fortran.shape].reverse();
  const shapeText = reversed.length === 1 ? `(${reversed[0]},)` : `(${reversed.join(', ')})`;
  const header = fortran.header
    .replace(/'fortran_order'\s*:\s*True/, "'fortran_order': False")
    .replace(/'shape'\s*:\s*\([^)]*\)/, `'shape': ${shapeText}`);
  const c = parseNpy(withHeader(header, bytes.subarray(fortran.dataStart)));
  const perm = reversed.map((_, i) => reversed.length - 1 - i);
  return { ...transposeRaw(toRaw(c, descr), perm), sourceDtype: descr };
}

/** Parses an .npz archive into arrays keyed by name (without the `.npy` suffix). */
export async function parseNpz(bytes: Uint8Array, options: ReadZipOptions = {}): Promise<RawTensors> {
  const out: RawTensors = new Map();
  for (const entry of await readZip(bytes, options)) {
    if (!entry.name.endsWith('.npy')) continue;
    const key = entry.name.slice(0, -4);
    try {
      out.set(key, parseNpyAnyOrder(entry.data));
    } catch (e) {
      if (e instanceof FormatError) throw new WeightsFormatError(`npz array "${key}": ${e.reason}`, e.hint, { cause: e });
      throw e;
    }
  }
  if (out.size === 0) throw new WeightsFormatError('the .npz archive holds no .npy arrays');
  return out;
}

/** Serializes arrays as an .npz archive: stored like numpy.savez, or deflated (savez_compressed) when `deflateRaw` is given. */
export function serializeNpz(tensors: ReadonlyMap<string, RawTensor>, options: WriteZipOptions = {}): Uint8Array {
  const entries = [...tensors].map(([name, t]) => {
    const dtype = t.data instanceof Float32Array ? 'float32' : t.data instanceof Int32Array ? 'int32' : 'uint8';
    return { name: `${name}.npy`, data: serializeNpy({ shape: t.shape, dtype, data: t.data } as NpyArray) };
  });
  return writeZip(entries, options);
}
