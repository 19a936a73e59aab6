import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FormatError, parseNpy, serializeNpy } from '../src/index.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../fixtures/reference/vit-micro/${name}`, import.meta.url)));

describe('npy', () => {
  it('reads the reference input with its shape', () => {
    const a = parseNpy(fixture('input_nhwc.npy'));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([2, 32, 32, 3]);
    expect(a.data.length).toBe(2 * 32 * 32 * 3);
    // The NCHW file holds the same numbers transposed: check one element.
    const nchw = parseNpy(fixture('input_nchw.npy'));
    expect(nchw.shape).toEqual([2, 3, 32, 32]);
    const [n, h, w, c] = [1, 5, 7, 2];
    expect(a.data[((n * 32 + h) * 32 + w) * 3 + c]).toBe(nchw.data[((n * 3 + c) * 32 + h) * 32 + w]);
  });

  it('round-trips float32, int32 and uint8 arrays byte for byte', () => {
    const original = fixture('expected_logits.npy');
    const parsed = parseNpy(original);
    const again = parseNpy(serializeNpy(parsed));
    expect(again.shape).toEqual(parsed.shape);
    expect(Buffer.from(again.data.buffer).equals(Buffer.from(parsed.data.buffer))).toBe(true);
    const ints = parseNpy(serializeNpy({ shape: [3], dtype: 'int32', data: new Int32Array([1, -2, 3]) }));
    expect([...ints.data]).toEqual([1, -2, 3]);
    const bytes = parseNpy(serializeNpy({ shape: [2, 2], dtype: 'uint8', data: new Uint8Array([0, 1, 254, 255]) }));
    expect([...bytes.data]).toEqual([0, 1, 254, 255]);
  });

  it('aligns the data to 64 bytes as numpy does', () => {
    const out = serializeNpy({ shape: [1], dtype: 'float32', data: new Float32Array([1]) });
    expect((out.length - 4) % 64).toBe(0);
  });

  it('gives a FormatError for truncated, foreign and mismatched input', () => {
    const good = fixture('expected_logits.npy');
    expect(() => parseNpy(good.subarray(0, good.length - 4))).toThrow(FormatError);
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow(/magic/);
    expect(() => parseNpy(new Uint8Array(0))).toThrow(FormatError);
    expect(() => serializeNpy({ shape: [2, 2], dtype: 'float32', data: new Float32Array(3) })).toThrow(FormatError);
  });
});
