import type { FileHandle } from 'node:fs/promises';
import { CheckpointNotFoundError, WeightsFormatError } from './errors.js';
import { nodeModules, writeFileAtomic } from './node.js';
import type { RawTensors } from './raw_tensor.js';
import {
  decodeEntry,
  parseSafetensorsHeader,
  readHeaderLength,
  safetensorsParts,
  type ParsedSafetensors,
  type SerializeOptions,
} from './safetensors.js';

/** Opens a file for reading, turning "no such file" into a one-line error. */
export async function openForRead(path: string): Promise<FileHandle> {
  const { fs } = await nodeModules();
  try {
    return await fs.open(path, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointNotFoundError(`file ${path}`);
    if (code === 'EISDIR') throw new CheckpointNotFoundError(`file ${path} (it is a directory)`, 'pass the .safetensors file or a checkpoint directory');
    throw new CheckpointNotFoundError(`readable file ${path} (${code ?? String(e)})`, 'check the file permissions');
  }
}

/** Fills `target` from the file starting at `position`; fails clearly if the file ends first. */
export async function readFully(handle: FileHandle, target: Uint8Array, position: number, what: string): Promise<void> {
  let at = 0;
  while (at < target.length) {
    // Node reads at most 2 GiB per call.
    const { bytesRead } = await handle.read(target, at, Math.min(target.length - at, 1 << 30), position + at);
    if (bytesRead === 0) throw new WeightsFormatError(`${what} ended after ${position + at} bytes while reading (the file was truncated while open?)`);
    at += bytesRead;
  }
}

/** An uninitialized byte array of its own (Buffer.allocUnsafeSlow skips zero-filling and the shared pool). */
function allocate(size: number): Uint8Array {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  return B ? B.allocUnsafeSlow(size) : new Uint8Array(size);
}

/**
 * Reads a safetensors file from disk: the 8-byte length, then the header, is
 * read and checked first (so a corrupt header costs no large read), then
 * the data region is read once into a single buffer that float32 tensors
 * view without copying. Peak memory is about the file size.
 */
export async function readSafetensorsFile(path: string): Promise<ParsedSafetensors> {
  const handle = await openForRead(path);
  try {
    const { size } = await handle.stat();
    const first = new Uint8Array(Math.min(8, size));
    await readFully(handle, first, 0, path);
    const n = readHeaderLength(first, size);
    const headerBytes = new Uint8Array(n);
    await readFully(handle, headerBytes, 8, path);
    const header = parseSafetensorsHeader(headerBytes, size - 8 - n);
    const data = allocate(size - 8 - n);
    await readFully(handle, data, 8 + n, path);
    const tensors: RawTensors = new Map();
    for (const e of header.entries) tensors.set(e.name, decodeEntry(e, data));
    return { tensors, metadata: header.metadata };
  } catch (e) {
    if (e instanceof WeightsFormatError) {
      throw new WeightsFormatError(`${path}: ${e.reason}`, e.hint, { cause: e });
    }
    throw e;
  } finally {
    await handle.close();
  }
}

/** Writes tensors as a safetensors file, atomically, without joining them into one buffer first. */
export async function writeSafetensorsFile(path: string, tensors: RawTensors, options: SerializeOptions = {}): Promise<void> {
  const parts = safetensorsParts(tensors, options);
  await writeFileAtomic(path, [parts.header, ...parts.chunks]);
}
