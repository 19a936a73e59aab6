import { WeightsFormatError } from './errors.js';
import { ITEM_SIZE, decodeBF16, decodeF16, encodeFloats, isSafetensorsDtype, type FloatStorage, type SafetensorsDtype } from './dtypes.js';
import { numel, type RawTensor, type RawTensors } from './raw_tensor.js';

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`,
 * then the data region, which the tensors must cover exactly (no overlaps, no
 * holes). https://huggingface.co/docs/safetensors
 */

/** Headers above this are refused before reading them (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range in the data region. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data region starts in the file (8 + header length). */
  dataOffset: number;
}

export interface ParsedSafetensors {
  tensors: RawTensors;
  metadata: Record<string, string>;
}

function bad(reason: string): WeightsFormatError {
  return new WeightsFormatError(`not a valid safetensors file: ${reason}`);
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function readHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) throw bad(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > fileSize - 8) throw bad(`header length ${hi ? `${hi}*2^32+${lo}` : n} runs past the end of the file (${fileSize} bytes)`);
  if (n > MAX_HEADER_BYTES) throw bad(`header length ${n} is above the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2) throw bad(`header length ${n} is too small for a JSON object`);
  return n;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and checks the JSON header against the size of the data region:
 * known dtypes, integer shapes, offsets inside the region that match the
 * shape, and tensors that cover the region without overlaps or holes.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw bad(`header is not valid UTF-8 JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) throw bad(`entry "${name}" is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) {
      throw new WeightsFormatError(
        `unsupported dtype ${JSON.stringify(dtype)} for tensor "${name}"`,
        'supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL; convert the checkpoint to float32 first',
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw bad(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = numel(shape as number[]);
    const bytes = count * ITEM_SIZE[dtype];
    if (!Number.isSafeInteger(bytes)) throw bad(`tensor "${name}" shape [${shape.join(', ')}] is too large`);
    if (end < begin) throw bad(`tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength) {
      throw bad(`tensor "${name}" data_offsets [${begin}, ${end}] run past the data region (${dataLength} bytes): the file is truncated or corrupt`);
    }
    if (end - begin !== bytes) {
      throw bad(`tensor "${name}" has ${end - begin} bytes but ${dtype}[${shape.join(', ')}] needs ${bytes}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  checkCoverage(entries, dataLength);
  return { entries, metadata, dataOffset: 8 + headerBytes.length };
}

/** Tensors must tile the data region exactly: this rules out aliasing and hidden payloads. */
function checkCoverage(entries: readonly SafetensorsEntry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let last: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < at) {
      throw bad(`tensors "${last?.name}" and "${e.name}" overlap (bytes ${last?.begin}-${last?.end} and ${e.begin}-${e.end})`);
    }
    if (e.begin > at) throw bad(`bytes ${at}-${e.begin} of the data region belong to no tensor`);
    at = e.end;
    if (e.end > e.begin) last = e;
  }
  if (at !== dataLength) throw bad(`bytes ${at}-${dataLength} of the data region belong to no tensor`);
}

/**
 * Decodes one tensor from the data region. float32/int32/uint8 data is a view
 * into `data` when aligned (no copy); other dtypes are converted.
 */
export function decodeEntry(entry: SafetensorsEntry, data: Uint8Array): RawTensor {
  const count = numel(entry.shape);
  const bytes = data.subarray(entry.begin, entry.end);
  const shape = [...entry.shape];
  const sourceDtype = entry.dtype;
  const aligned4 = (data.byteOffset + entry.begin) % 4 === 0;
  const view = () => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (entry.dtype) {
    case 'F32':
      return {
        shape,
        sourceDtype,
        data: aligned4 ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new Float32Array(bytes.slice().buffer),
      };
    case 'I32':
      return { shape, sourceDtype, data: aligned4 ? new Int32Array(bytes.buffer, bytes.byteOffset, count) : new Int32Array(bytes.slice().buffer) };
    case 'F16':
      return { shape, sourceDtype, data: decodeF16(bytes, count) };
    case 'BF16':
      return { shape, sourceDtype, data: decodeBF16(bytes, count) };
    case 'F64': {
      const dv = view();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return { shape, sourceDtype, data: out };
    }
    case 'I64': {
      const dv = view();
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new WeightsFormatError(`tensor "${entry.name}" holds int64 value ${v}, which does not fit in int32`);
        }
        out[i] = Number(v);
      }
      return { shape, sourceDtype, data: out };
    }
    case 'I16': {
      const dv = view();
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      return { shape, sourceDtype, data: out };
    }
    case 'I8':
      return { shape, sourceDtype, data: Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count)) };
    case 'U8':
    case 'BOOL':
      return { shape, sourceDtype, data: bytes };
  }
}

/**
 * Parses a whole safetensors file held in memory. Tensors may share memory
 * with `bytes` (no copy for aligned float32): do not modify `bytes` afterwards.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n);
  const data = bytes.subarray(header.dataOffset);
  const tensors: RawTensors = new Map();
  for (const e of header.entries) tensors.set(e.name, decodeEntry(e, data));
  return { tensors, metadata: header.metadata };
}

export interface SerializeOptions {
  /** String key/values stored in `__metadata__`. Default `{ format: 'pt' }`, as PyTorch writers do. */
  metadata?: Record<string, string>;
  /** How to store float32 tensors (default F32). */
  dtype?: FloatStorage;
}

/** The pieces of a safetensors file, in order: header, then each tensor's bytes. */
export interface SafetensorsParts {
  header: Uint8Array;
  chunks: Uint8Array[];
  byteLength: number;
}

/**
 * Lays out a safetensors file like the reference writer does: tensors
 * ordered by element size (largest first) then name, compact JSON header
 * with `__metadata__` last, padded with spaces to a multiple of 8 bytes.
 */
export function safetensorsParts(tensors: ReadonlyMap<string, RawTensor>, options: SerializeOptions = {}): SafetensorsParts {
  const storage = options.dtype ?? 'F32';
  const metadata = options.metadata ?? { format: 'pt' };
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new WeightsFormatError(`metadata value for "${k}" must be a string`, 'JSON.stringify structured values');
  }
  const items = [...tensors].map(([name, t]) => {
    if (name === '__metadata__') throw new WeightsFormatError('a tensor cannot be named "__metadata__" in safetensors', 'rename the tensor');
    if (numel(t.shape) !== t.data.length) {
      throw new WeightsFormatError(`tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}]`, 'fix the shape before saving');
    }
    const dtype: SafetensorsDtype = t.data instanceof Float32Array ? storage : t.data instanceof Int32Array ? 'I32' : 'U8';
    const bytes = t.data instanceof Float32Array ? encodeFloats(t.data, storage) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    return { name, dtype, shape: t.shape, bytes };
  });
  items.sort((a, b) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const it of items) {
    header[it.name] = { dtype: it.dtype, shape: it.shape, data_offsets: [offset, offset + it.bytes.length] };
    offset += it.bytes.length;
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = new TextEncoder().encode(json);
  }
  const prefix = new Uint8Array(8 + headerBytes.length);
  new DataView(prefix.buffer).setUint32(0, headerBytes.length, true);
  prefix.set(headerBytes, 8);
  return { header: prefix, chunks: items.map((i) => i.bytes), byteLength: prefix.length + offset };
}

/** Serializes tensors to the bytes of a safetensors file. */
export function serializeSafetensors(tensors: ReadonlyMap<string, RawTensor>, options: SerializeOptions = {}): Uint8Array {
  const parts = safetensorsParts(tensors, options);
  const out = new Uint8Array(parts.byteLength);
  out.set(parts.header, 0);
  let at = parts.header.length;
  for (const c of parts.chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
