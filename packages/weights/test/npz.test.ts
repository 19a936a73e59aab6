import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { serializeNpy } from '@vitkit/core';
import { convertFromTimm, parseNpyAnyOrder, parseNpz, readZip, serializeNpz, WeightsFormatError, writeZip } from '../src/index.js';
import { inflateWithStream } from '../src/zip.js';
import { differences, fixtureBytes, MICRO_HEADS, referenceTimm } from './helpers.js';

const deflate = (d: Uint8Array) => new Uint8Array(deflateRawSync(d));

describe('parseNpz', () => {
  it('reads the JAX fixture, including its Fortran-ordered kernels', async () => {
    const t = await parseNpz(fixtureBytes('vit-micro/jax.npz'));
    expect(t.size).toBe(40);
    expect(t.get('embedding/kernel')!.shape).toEqual([8, 8, 3, 32]);
    // head/kernel is stored Fortran-ordered [32, 10]; element [i, j] must be timm head.weight[j, i].
    const kernel = t.get('head/kernel')!;
    const head = referenceTimm().get('head.weight')!;
    expect(kernel.shape).toEqual([32, 10]);
    for (const [i, j] of [
      [0, 0],
      [5, 3],
      [31, 9],
    ] as const) {
      expect(kernel.data[i * 10 + j]).toBe(head.data[j * 32 + i]);
    }
  });

  it('reads deflated archives (numpy.savez_compressed) identically to stored ones', async () => {
    const jax = convertFromTimm(referenceTimm(), 'jax', { numHeads: MICRO_HEADS }).tensors;
    const stored = serializeNpz(jax);
    const compressed = serializeNpz(jax, { deflateRaw: deflate });
    expect(compressed.length).toBeLessThan(stored.length);
    expect(differences(await parseNpz(compressed), jax)).toEqual([]);
    expect(differences(await parseNpz(stored), jax)).toEqual([]);
  });

  it('the DecompressionStream path (browsers) inflates the same bytes and caps the output', async () => {
    const data = new TextEncoder().encode('vitkit '.repeat(1000));
    expect(Buffer.from(await inflateWithStream(deflate(data), data.length, 'x')).equals(Buffer.from(data))).toBe(true);
    await expect(inflateWithStream(deflate(data), 100, 'x')).rejects.toThrow(/more than its declared 100 bytes/);
    await expect(inflateWithStream(new Uint8Array([0xff, 0xff, 0xff]), 10, 'x')).rejects.toThrow(WeightsFormatError);
  });

  it('an entry larger than maxEntryBytes is refused before it is inflated', async () => {
    // 64 MiB of float32 zeros deflate to ~64 KB: a valid, small file that expands 1000-fold.
    const big = new Map([['w', { shape: [16 * 2 ** 20], data: new Float32Array(16 * 2 ** 20) }]]);
    const npz = serializeNpz(big, { deflateRaw: deflate });
    expect(npz.length).toBeLessThan(200_000);
    const start = performance.now();
    await expect(parseNpz(npz, { maxEntryBytes: 2 ** 20 })).rejects.toThrow(/entry "w.npy" declares 67108992 bytes, more than the limit of 1048576/);
    expect(performance.now() - start).toBeLessThan(200);
    expect((await parseNpz(npz)).get('w')!.shape).toEqual([16 * 2 ** 20]);
  });

  it('a declared size deflate cannot reach from the compressed bytes is refused without inflating', async () => {
    const npz = serializeNpz(new Map([['w', { shape: [4], data: new Float32Array(4) }]]), { deflateRaw: deflate });
    const r = await readZip(npz);
    expect(r).toHaveLength(1);
    // Claim 1 GiB in the local header and the directory record.
    const view = new DataView(npz.buffer, npz.byteOffset, npz.byteLength);
    const central = npz.length - 22 - (46 + 'w.npy'.length);
    view.setUint32(22, 2 ** 30, true);
    view.setUint32(central + 24, 2 ** 30, true);
    await expect(parseNpz(npz)).rejects.toThrow(/declares 1073741824 bytes from \d+ deflated bytes, more than deflate can expand to/);
  });

  it('reads n-d Fortran arrays', () => {
    // A 2x3x4 C-order array saved with fortran_order True holds the reversed-shape C array's memory.
    const reversed = new Float32Array(24).map((_, i) => i); // shape [4, 3, 2]
    const c = serializeNpy({ shape: [4, 3, 2], dtype: 'float32', data: reversed });
    const header = new TextDecoder().decode(c.subarray(10, 10 + new DataView(c.buffer).getUint16(8, true)));
    const fortranHeader = header.replace("'fortran_order': False", "'fortran_order': True ").replace('(4, 3, 2)', '(2, 3, 4)');
    const f = new Uint8Array(c);
    f.set(new TextEncoder().encode(fortranHeader), 10);
    const t = parseNpyAnyOrder(f);
    expect(t.shape).toEqual([2, 3, 4]);
    // t[i, j, k] = reversed[k, j, i] = k*6 + j*2 + i
    expect(t.data[1 * 12 + 2 * 4 + 3]).toBe(3 * 6 + 2 * 2 + 1);
  });

  it('rejects corrupt archives with typed errors', async () => {
    const good = fixtureBytes('vit-micro/jax.npz');
    await expect(parseNpz(good.subarray(0, good.length - 30))).rejects.toThrow(/end-of-central-directory|outside/);
    const flipped = new Uint8Array(good);
    flipped[200] = flipped[200]! ^ 0xff; // inside the first entry's data
    await expect(parseNpz(flipped)).rejects.toThrow(/CRC/);
    await expect(parseNpz(new Uint8Array(10))).rejects.toThrow(WeightsFormatError);
    const other = writeZip([{ name: 'a.txt', data: new Uint8Array([1]) }]);
    await expect(parseNpz(other)).rejects.toThrow(/no \.npy arrays/);
    const badNpy = writeZip([{ name: 'x.npy', data: new Uint8Array([1, 2, 3]) }]);
    await expect(parseNpz(badNpy)).rejects.toThrow(/npz array "x": not a valid \.npy file/);
  });

  it('rejects unsupported compression methods, naming the entry', async () => {
    const zip = writeZip([{ name: 'a.npy', data: new Uint8Array([1]) }]);
    const v = new DataView(zip.buffer);
    const cd = v.getUint32(zip.length - 22 + 16, true);
    v.setUint16(cd + 10, 12, true); // bzip2
    await expect(readZip(zip)).rejects.toThrow(/"a\.npy" uses zip compression method 12/);
  });
});
