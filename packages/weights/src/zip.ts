import { WeightsFormatError } from './errors.js';
import { crc32 } from './crc32.js';
import { isNode, nodeImport } from './node.js';

/**
 * Just enough of the zip format for .npz files: the central directory
 * (including ZIP64 sizes and offsets, which numpy writes for large arrays),
 * stored and deflated entries, and CRC checks. Every offset is checked
 * against the archive size before it is used.
 */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

function bad(reason: string): WeightsFormatError {
  return new WeightsFormatError(`not a valid .npz (zip) file: ${reason}`);
}

/** Little-endian reads that fail with a format error instead of a RangeError. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(at: number, size: number, what: string): void {
    if (!(at >= 0 && at + size <= this.bytes.length)) throw bad(`${what} at byte ${at} lies outside the ${this.bytes.length}-byte file`);
  }
  u16(at: number, what: string): number {
    this.check(at, 2, what);
    return this.view.getUint16(at, true);
  }
  u32(at: number, what: string): number {
    this.check(at, 4, what);
    return this.view.getUint32(at, true);
  }
  u64(at: number, what: string): number {
    this.check(at, 8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} ${v} is too large`);
    return Number(v);
  }
  slice(at: number, size: number, what: string): Uint8Array {
    this.check(at, size, what);
    return this.bytes.subarray(at, at + size);
  }
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEndOfCentralDirectory(r: Reader): number {
  const len = r.bytes.length;
  if (len < 22) throw bad(`file is ${len} bytes, too short for a zip archive`);
  const stop = Math.max(0, len - 22 - 0xffff);
  for (let at = len - 22; at >= stop; at--) {
    if (r.bytes[at] === 0x50 && r.u32(at, 'end record') === SIG_EOCD) return at;
  }
  throw bad('no end-of-central-directory record (truncated download?)');
}

function readCentralDirectory(r: Reader): CentralEntry[] {
  const eocd = findEndOfCentralDirectory(r);
  let count = r.u16(eocd + 10, 'entry count');
  let cdSize = r.u32(eocd + 12, 'directory size');
  let cdOffset = r.u32(eocd + 16, 'directory offset');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc, 'ZIP64 locator') !== SIG_LOCATOR64) throw bad('ZIP64 archive without a ZIP64 locator');
    const eocd64 = r.u64(loc + 8, 'ZIP64 end record offset');
    if (r.u32(eocd64, 'ZIP64 end record') !== SIG_EOCD64) throw bad('ZIP64 end record signature is wrong');
    count = r.u64(eocd64 + 32, 'ZIP64 entry count');
    cdSize = r.u64(eocd64 + 40, 'ZIP64 directory size');
    cdOffset = r.u64(eocd64 + 48, 'ZIP64 directory offset');
  }
  if (cdOffset + cdSize > r.bytes.length) throw bad(`central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file`);
  // Each record is at least 46 bytes: a count that cannot fit is corrupt (and would loop for long).
  if (count * 46 > cdSize) throw bad(`central directory of ${cdSize} bytes cannot hold ${count} entries`);
  const entries: CentralEntry[] = [];
  let at = cdOffset;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (r.u32(at, 'directory record') !== SIG_CENTRAL) throw bad(`directory record ${i} has a wrong signature`);
    const flags = r.u16(at + 8, 'flags');
    const method = r.u16(at + 10, 'compression method');
    const crc = r.u32(at + 16, 'crc');
    let compressedSize = r.u32(at + 20, 'compressed size');
    let size = r.u32(at + 24, 'size');
    const nameLen = r.u16(at + 28, 'name length');
    const extraLen = r.u16(at + 30, 'extra length');
    const commentLen = r.u16(at + 32, 'comment length');
    let localOffset = r.u32(at + 42, 'local header offset');
    const name = decoder.decode(r.slice(at + 46, nameLen, 'entry name'));
    // ZIP64 extra field: the 64-bit values, in this order, for fields saturated at 0xffffffff.
    let x = at + 46 + nameLen;
    const extraEnd = x + extraLen;
    while (x + 4 <= extraEnd) {
      const id = r.u16(x, 'extra id');
      const len = r.u16(x + 2, 'extra length');
      if (id === 0x0001) {
        let f = x + 4;
        if (size === 0xffffffff) {
          size = r.u64(f, 'ZIP64 size');
          f += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = r.u64(f, 'ZIP64 compressed size');
          f += 8;
        }
        if (localOffset === 0xffffffff) localOffset = r.u64(f, 'ZIP64 offset');
      }
      x += 4 + len;
    }
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
    at = extraEnd + commentLen;
  }
  return entries;
}

/** Deflate never expands more than 1032:1 (a 258-byte match in 2 bits); a larger declared size is corrupt. */
const MAX_DEFLATE_RATIO = 1032;

/** The largest zip entry readZip inflates unless told otherwise (4 GiB). */
export const DEFAULT_MAX_ENTRY_BYTES = 2 ** 32;

export interface ReadZipOptions {
  /** Refuse entries whose declared size is larger than this, before inflating them (default 4 GiB). */
  maxEntryBytes?: number;
}

/**
 * Inflates raw deflate data into one buffer of the declared `size`, refusing
 * to produce more: memory peaks at `size` plus one chunk, never at what the
 * stream would expand to.
 */
async function inflate(data: Uint8Array, size: number, name: string): Promise<Uint8Array> {
  if (!isNode) return inflateWithStream(data, size, name);
  const zlib = (await nodeImport('node:zlib')) as typeof import('node:zlib');
  const stream = zlib.createInflateRaw({ chunkSize: 1 << 20 });
  stream.end(data);
  return collect(stream as AsyncIterable<Uint8Array>, size, name, () => stream.destroy());
}

/** Browser path: DecompressionStream('deflate-raw'), with the same size cap. */
export async function inflateWithStream(data: Uint8Array, size: number, name: string): Promise<Uint8Array> {
  const stream = new DecompressionStream('deflate-raw');
  const writer = stream.writable.getWriter();
  // Errors surface on the reading side; keep these from becoming unhandled rejections.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    },
  };
  return collect(chunks, size, name, () => void reader.cancel().catch(() => undefined));
}

/** Copies inflated chunks into a buffer of `size` bytes, stopping at the first byte past it. */
async function collect(chunks: AsyncIterable<Uint8Array>, size: number, name: string, stop: () => void): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let total = 0;
  try {
    for await (const value of chunks) {
      if (total + value.length > size) {
        stop();
        throw bad(`entry "${name}" inflates to more than its declared ${size} bytes`);
      }
      out.set(value, total);
      total += value.length;
    }
  } catch (e) {
    if (e instanceof WeightsFormatError) throw e;
    throw bad(`entry "${name}" does not inflate (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  return total === size ? out : out.subarray(0, total);
}

/** Reads every file entry of a zip archive held in memory. Stored entries are views into `bytes`. */
export async function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): Promise<ZipEntry[]> {
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const r = new Reader(bytes);
  const out: ZipEntry[] = [];
  for (const e of readCentralDirectory(r)) {
    if (e.name.endsWith('/')) continue; // directory
    if (e.flags & 1) throw bad(`entry "${e.name}" is encrypted`);
    if (r.u32(e.localOffset, 'local header') !== SIG_LOCAL) throw bad(`entry "${e.name}" has no local header at byte ${e.localOffset}`);
    const nameLen = r.u16(e.localOffset + 26, 'local name length');
    const extraLen = r.u16(e.localOffset + 28, 'local extra length');
    const raw = r.slice(e.localOffset + 30 + nameLen + extraLen, e.compressedSize, `data of "${e.name}"`);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) throw bad(`stored entry "${e.name}" has different compressed and plain sizes`);
      data = raw;
    } else if (e.method === 8) {
      if (e.size > maxEntryBytes) {
        throw new WeightsFormatError(
          `entry "${e.name}" declares ${e.size} bytes, more than the limit of ${maxEntryBytes}`,
          'raise maxEntryBytes if you trust the file, or check that it is the checkpoint you meant',
        );
      }
      if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 64) {
        throw bad(`entry "${e.name}" declares ${e.size} bytes from ${e.compressedSize} deflated bytes, more than deflate can expand to`);
      }
      data = await inflate(raw, e.size, e.name);
    } else {
      throw new WeightsFormatError(`entry "${e.name}" uses zip compression method ${e.method}`, 'only stored and deflated entries are supported; re-save with numpy.savez or savez_compressed');
    }
    if (data.length !== e.size) throw bad(`entry "${e.name}" has ${data.length} bytes, the directory says ${e.size}`);
    if (crc32(data) !== e.crc) throw bad(`entry "${e.name}" fails its CRC check (corrupt data)`);
    out.push({ name: e.name, data });
  }
  return out;
}

export interface WriteZipOptions {
  /**
   * Raw-deflates an entry (e.g. node:zlib deflateRawSync). When given,
   * entries are stored deflated (method 8), as numpy.savez_compressed does;
   * otherwise stored as they are, as numpy.savez does.
   */
  deflateRaw?: (data: Uint8Array) => Uint8Array;
}

/** Writes a zip archive held in memory. No ZIP64: up to 4 GiB. */
export function writeZip(entries: readonly ZipEntry[], options: WriteZipOptions = {}): Uint8Array {
  const encoder = new TextEncoder();
  const method = options.deflateRaw ? 8 : 0;
  const names = entries.map((e) => encoder.encode(e.name));
  const crcs = entries.map((e) => crc32(e.data));
  const bodies = entries.map((e) => (options.deflateRaw ? options.deflateRaw(e.data) : e.data));
  let localSize = 0;
  for (const [i, b] of bodies.entries()) localSize += 30 + names[i]!.length + b.length;
  const cdSize = names.reduce((a, n) => a + 46 + n.length, 0);
  const total = localSize + cdSize + 22;
  if (total > 0xffffffff || entries.length > 0xffff) {
    throw new WeightsFormatError(`an npz of ${total} bytes and ${entries.length} arrays needs ZIP64, which the writer does not produce`, 'save as safetensors instead');
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const offsets: number[] = [];
  let at = 0;
  const fixed = (o: number, i: number) => {
    v.setUint16(o, 20, true); // version needed
    v.setUint16(o + 4, method, true);
    v.setUint16(o + 6, 0, true); // time
    v.setUint16(o + 8, 0x21, true); // date 1980-01-01: output is reproducible
    v.setUint32(o + 10, crcs[i]!, true);
    v.setUint32(o + 14, bodies[i]!.length, true);
    v.setUint32(o + 18, entries[i]!.data.length, true);
    v.setUint16(o + 22, names[i]!.length, true);
  };
  for (const [i, body] of bodies.entries()) {
    offsets.push(at);
    v.setUint32(at, SIG_LOCAL, true);
    fixed(at + 4, i);
    out.set(names[i]!, at + 30);
    out.set(body, at + 30 + names[i]!.length);
    at += 30 + names[i]!.length + body.length;
  }
  const cdStart = at;
  for (let i = 0; i < entries.length; i++) {
    v.setUint32(at, SIG_CENTRAL, true);
    v.setUint16(at + 4, 20, true); // version made by
    fixed(at + 6, i);
    v.setUint32(at + 42, offsets[i]!, true);
    out.set(names[i]!, at + 46);
    at += 46 + names[i]!.length;
  }
  v.setUint32(at, SIG_EOCD, true);
  v.setUint16(at + 8, entries.length, true);
  v.setUint16(at + 10, entries.length, true);
  v.setUint32(at + 12, at - cdStart, true);
  v.setUint32(at + 16, cdStart, true);
  return out;
}
