import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, VitkitError } from '@vitkit/core';
import {
  decodeBF16,
  decodeF16,
  f16ToNumber,
  numberToBF16,
  numberToF16,
  parseSafetensors,
  readSafetensorsFile,
  serializeSafetensors,
  WeightsFormatError,
  CheckpointNotFoundError,
  writeSafetensorsFile,
  type RawTensors,
} from '../src/index.js';
import { differences, fixtureBytes, referenceTimm, tempDir } from './helpers.js';

/** A safetensors file from a header object and a data region, for malformed cases. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** Runs `f`, expecting a one-line WeightsFormatError whose message matches `pattern`. */
function formatError(f: () => unknown, pattern: RegExp): WeightsFormatError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WeightsFormatError);
  const e = caught as WeightsFormatError;
  expect(e).toBeInstanceOf(FormatError);
  expect(e.code).toBe('E_FORMAT');
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toContain('\n');
  expect(e.hint).toBeTruthy();
  return e;
}

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('parseSafetensors', () => {
  it('parses the reference file: names, shapes, values', () => {
    const { tensors, metadata } = parseSafetensors(fixtureBytes('vit-micro/timm.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.size).toBe(32);
    expect(tensors.get('patch_embed.proj.weight')!.shape).toEqual([32, 3, 8, 8]);
    expect(tensors.get('pos_embed')!.data).toBeInstanceOf(Float32Array);
  });

  it('round-trips through serializeSafetensors, with metadata', () => {
    const t: RawTensors = new Map([
      ['a', { shape: [2, 2], data: new Float32Array([1, -2, 3.5, 1e-30]) }],
      ['b', { shape: [3], data: new Int32Array([7, -8, 2 ** 31 - 1]) }],
      ['c', { shape: [0, 4], data: new Float32Array(0) }],
      ['d', { shape: [], data: new Float32Array([42]) }],
    ]);
    const parsed = parseSafetensors(serializeSafetensors(t, { metadata: { format: 'pt', note: 'x' } }));
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(differences(parsed.tensors, t)).toEqual([]);
  });

  it('rejects a truncated file', () => {
    const bytes = fixtureBytes('vit-micro/timm.safetensors');
    formatError(() => parseSafetensors(bytes.subarray(0, 5)), /shorter than the 8-byte header length/);
    formatError(() => parseSafetensors(bytes.subarray(0, bytes.length - 100)), /run past the data region|truncated/);
  });

  it('rejects a header length beyond the file', () => {
    const bytes = craft({});
    new DataView(bytes.buffer).setUint32(0, 1000, true);
    formatError(() => parseSafetensors(bytes), /header length 1000 runs past the end of the file/);
    new DataView(bytes.buffer).setUint32(4, 7, true);
    formatError(() => parseSafetensors(bytes), /runs past the end/);
  });

  it('rejects an invalid JSON header, and JSON that is not an object', () => {
    formatError(() => parseSafetensors(craft(null, undefined, '{"a": {')), /not valid UTF-8 JSON/);
    formatError(() => parseSafetensors(craft([1, 2])), /not a JSON object/);
    const invalidUtf8 = craft({});
    invalidUtf8[9] = 0xff;
    formatError(() => parseSafetensors(invalidUtf8), /UTF-8/);
  });

  it('rejects an unknown dtype, naming it and the tensor', () => {
    formatError(() => parseSafetensors(craft({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))), /unsupported dtype "F8_E4M3" for tensor "w"/);
  });

  it('rejects overlapping, out-of-range, inconsistent and gapped offsets', () => {
    const data = f32([1, 2, 3, 4]);
    formatError(
      () => parseSafetensors(craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data)),
      /tensors "a" and "b" overlap/,
    );
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, data)), /run past the data region \(16 bytes\)/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, data)), /has 16 bytes but F32\[3\] needs 12/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data)), /end before they begin/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data)), /bytes 0-8 of the data region belong to no tensor/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data)), /bytes 8-16/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 16] } }, data)), /invalid shape/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [2 ** 52, 2 ** 10], data_offsets: [0, 16] } }, data)), /too large/);
    formatError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0] } }, data)), /invalid data_offsets/);
    formatError(() => parseSafetensors(craft({ __metadata__: { a: 1 } })), /__metadata__\.a is not a string/);
  });

  it('decodes F16 and BF16 bit patterns exactly', () => {
    // Known encodings: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), inf, 1/3 rounded.
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0x3555];
    const expected16 = [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, 0.333251953125];
    expect(f16.map(f16ToNumber)).toEqual(expected16);
    expect(Array.from(decodeF16(new Uint8Array(new Uint16Array(f16).buffer), f16.length))).toEqual(expected16);
    expect(f16ToNumber(0x7e00)).toBeNaN();
    expect(expected16.map(numberToF16)).toEqual(f16);
    expect(numberToF16(1 / 3)).toBe(0x3555);
    expect(numberToF16(65520)).toBe(0x7c00); // rounds up to infinity
    expect(numberToF16(2 ** -25)).toBe(0); // ties to even: zero
    expect(numberToF16(3 * 2 ** -25)).toBe(0x0002);
    // bfloat16: the top 16 bits of a float32. 3.140625 = 0x4049, -1 = 0xbf80.
    const bf = [0x3f80, 0x4049, 0xbf80, 0x7f80];
    expect(Array.from(decodeBF16(new Uint8Array(new Uint16Array(bf).buffer), bf.length))).toEqual([1, 3.140625, -1, Infinity]);
    expect([1, Math.PI, -1, Infinity].map(numberToBF16)).toEqual(bf);
  });

  it('decodes F64, I64 (checked), I16, I8, U8 and BOOL', () => {
    const f64 = new Uint8Array(new Float64Array([0.5, -3]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([5n, -7n]).buffer);
    const big = new Uint8Array(new BigInt64Array([2n ** 40n]).buffer);
    const i16 = new Uint8Array(new Int16Array([-300, 300]).buffer);
    const file = craft(
      {
        a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        b: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
        c: { dtype: 'I16', shape: [2], data_offsets: [32, 36] },
        d: { dtype: 'I8', shape: [2], data_offsets: [36, 38] },
        e: { dtype: 'U8', shape: [1], data_offsets: [38, 39] },
        f: { dtype: 'BOOL', shape: [1], data_offsets: [39, 40] },
      },
      new Uint8Array([...f64, ...i64, ...i16, 0xff, 0x02, 200, 1]),
    );
    const t = parseSafetensors(file).tensors;
    expect(Array.from(t.get('a')!.data)).toEqual([0.5, -3]);
    expect(Array.from(t.get('b')!.data)).toEqual([5, -7]);
    expect(Array.from(t.get('c')!.data)).toEqual([-300, 300]);
    expect(Array.from(t.get('d')!.data)).toEqual([-1, 2]);
    expect(Array.from(t.get('e')!.data)).toEqual([200]);
    expect(t.get('b')!.sourceDtype).toBe('I64');
    formatError(() => parseSafetensors(craft({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big)), /does not fit in int32/);
  });

  it('writes F16 and BF16 files that read back close to the float32 values', () => {
    const reference = referenceTimm();
    for (const [dtype, tol] of [
      ['F16', 1e-3],
      ['BF16', 1e-2],
    ] as const) {
      const back = parseSafetensors(serializeSafetensors(reference, { dtype })).tensors;
      for (const [k, t] of reference) {
        const u = back.get(k)!;
        expect(u.sourceDtype).toBe(dtype);
        for (let i = 0; i < t.data.length; i++) {
          const x = t.data[i]!;
          expect(Math.abs(u.data[i]! - x), k).toBeLessThanOrEqual(tol * Math.abs(x) + 1e-7);
        }
      }
    }
  });
});

describe('readSafetensorsFile / writeSafetensorsFile', () => {
  it('reads what parseSafetensors reads, and writes atomically', async () => {
    const dir = tempDir();
    const reference = referenceTimm();
    const path = join(dir, 'w.safetensors');
    await writeSafetensorsFile(path, reference);
    const read = await readSafetensorsFile(path);
    expect(differences(read.tensors, reference)).toEqual([]);
    expect(read.metadata).toEqual({ format: 'pt' });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual(['w.safetensors']); // no temporary files left
  });

  it('fails with typed errors on missing and corrupt files, naming the file', async () => {
    const dir = tempDir();
    await expect(readSafetensorsFile(join(dir, 'nope.safetensors'))).rejects.toThrow(CheckpointNotFoundError);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, fixtureBytes('vit-micro/timm.safetensors').subarray(0, 3000));
    const e = await readSafetensorsFile(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WeightsFormatError);
    expect((e as VitkitError).message).toContain('bad.safetensors');
    expect((e as VitkitError).message).toMatch(/run past the data region/);
  });
});
