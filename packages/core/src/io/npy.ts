import { FormatError } from '../errors.js';

/** An n-dimensional array as read from or written to a .npy file. */
export interface NpyArray {
  shape: number[];
  dtype: 'float32' | 'int32' | 'uint8';
  data: Float32Array | Int32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function bad(reason: string): FormatError {
  return new FormatError(`not a valid .npy file: ${reason}`, 'write it with numpy.save (little-endian, C order)');
}

/**
 * Parses a .npy file (format versions 1-3). float64 is narrowed to float32 and
 * int64 to int32 (checked), since tfjs computes in 32 bits.
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw bad('missing the \\x93NUMPY magic');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw bad(`unsupported format version ${major}`);
  }
  if (offset + headerLen > bytes.length) throw bad('header runs past the end of the file');
  const header = new TextDecoder().decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad('header is missing descr, fortran_order or shape');
  if (fortran === 'True') throw bad('Fortran-ordered arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`invalid shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = offset + headerLen;
  const body = bytes.subarray(dataStart);
  const need = (itemSize: number): DataView => {
    if (body.length < count * itemSize) throw bad(`data is truncated: expected ${count * itemSize} bytes, found ${body.length}`);
    return new DataView(body.buffer, body.byteOffset, count * itemSize);
  };
  switch (descr) {
    case '<f4': {
      const dv = need(4);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
      return { shape, dtype: 'float32', data };
    }
    case '<f8': {
      const dv = need(8);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, true);
      return { shape, dtype: 'float32', data };
    }
    case '<i4': {
      const dv = need(4);
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, true);
      return { shape, dtype: 'int32', data };
    }
    case '<i8': {
      const dv = need(8);
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw bad(`int64 value ${v} does not fit in int32`);
        data[i] = Number(v);
      }
      return { shape, dtype: 'int32', data };
    }
    case '|u1':
    case '|b1': {
      need(1);
      return { shape, dtype: 'uint8', data: body.slice(0, count) };
    }
    default:
      throw bad(`unsupported dtype ${descr} (supported: <f4, <f8, <i4, <i8, |u1, |b1)`);
  }
}

const DESCR: Record<NpyArray['dtype'], string> = { float32: '<f4', int32: '<i4', uint8: '|u1' };

/** Serializes an array as a version-1 .npy file (little-endian, C order). */
export function serializeNpy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new FormatError(`npy data has ${array.data.length} values but shape [${array.shape.join(', ')}] needs ${count}`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const dataBytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  // Typed arrays are little-endian on every platform tfjs supports.
  out.set(dataBytes, 10 + headerBytes.length);
  return out;
}
