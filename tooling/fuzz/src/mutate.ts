/**
 * Deterministic mutation of seed files. Case `i` of a target draws from a
 * PRNG seeded by (run seed, target, i), so any single case can be replayed
 * with `--target <name> --from <i> --cases 1`.
 */

/** mulberry32: small, fast, good enough for fuzzing. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export type Random = () => number;
const int = (r: Random, n: number): number => Math.floor(r() * n);

/** Values that break length and offset fields. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** One random edit; returns the new bytes and a short description of the edit. */
function mutateOnce(b: Uint8Array, r: Random, hot: number): [Uint8Array, string] {
  // Headers hold most of the structure: aim half of the edits at the first `hot` bytes.
  const pos = (n: number) => (r() < 0.5 ? int(r, Math.max(1, Math.min(n, hot))) : int(r, Math.max(1, n)));
  const kind = int(r, 9);
  switch (kind) {
    case 0: {
      const at = pos(b.length);
      const bit = int(r, 8);
      const out = b.slice();
      if (at < out.length) out[at] = out[at]! ^ (1 << bit);
      return [out, `flip bit ${bit} of byte ${at}`];
    }
    case 1: {
      const at = pos(b.length);
      const v = int(r, 256);
      const out = b.slice();
      if (at < out.length) out[at] = v;
      return [out, `set byte ${at} to ${v}`];
    }
    case 2: {
      const at = int(r, b.length + 1);
      return [b.slice(0, at), `truncate to ${at}`];
    }
    case 3: {
      // A length or offset field: 1, 2, 4 or 8 bytes, either endianness, an interesting value or off by a little.
      const width = [1, 2, 4, 8][int(r, 4)]!;
      const at = pos(Math.max(1, b.length - width));
      const out = b.slice();
      if (at + width > out.length) return [out, 'no-op field edit'];
      const view = new DataView(out.buffer);
      const little = r() < 0.5;
      let v: number;
      if (r() < 0.5) v = INTERESTING[int(r, INTERESTING.length)]!;
      else {
        const old = width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at, little) : view.getUint32(at, little);
        v = (old + int(r, 33) - 16) >>> 0;
      }
      if (width === 1) view.setUint8(at, v & 0xff);
      else if (width === 2) view.setUint16(at, v & 0xffff, little);
      else if (width === 4) view.setUint32(at, v >>> 0, little);
      else view.setBigUint64(at, BigInt(v >>> 0) * (r() < 0.3 ? 0x100000000n : 1n), little);
      return [out, `set ${width}-byte ${little ? 'LE' : 'BE'} field at ${at} to ${v}`];
    }
    case 4: {
      // Duplicate a chunk somewhere else.
      const from = int(r, b.length + 1);
      const len = Math.min(b.length - from, 1 + int(r, 512));
      const at = int(r, b.length + 1);
      return [splice(b, at, 0, b.slice(from, from + len)), `copy ${len} bytes from ${from} to ${at}`];
    }
    case 5: {
      const at = int(r, b.length + 1);
      const len = Math.min(b.length - at, 1 + int(r, 256));
      return [splice(b, at, len, new Uint8Array()), `delete ${len} bytes at ${at}`];
    }
    case 6: {
      const at = pos(b.length + 1);
      const bytes = Uint8Array.from({ length: 1 + int(r, 32) }, () => int(r, 256));
      return [splice(b, at, 0, bytes), `insert ${bytes.length} random bytes at ${at}`];
    }
    case 7: {
      const at = pos(b.length);
      const len = Math.min(b.length - at, 1 + int(r, 64));
      const out = b.slice();
      for (let i = 0; i < len; i++) out[at + i] = int(r, 256);
      return [out, `randomize ${len} bytes at ${at}`];
    }
    default: {
      // Keep the first bytes (the magic) and replace the rest with noise.
      const keep = Math.min(b.length, int(r, 64));
      const out = new Uint8Array(keep + int(r, 2048));
      out.set(b.subarray(0, keep));
      for (let i = keep; i < out.length; i++) out[i] = int(r, 256);
      return [out, `keep ${keep} bytes then ${out.length - keep} random`];
    }
  }
}

/** 1 to 4 random edits of a seed. */
export function mutateBytes(seed: Uint8Array, r: Random, hot = 256): { bytes: Uint8Array; how: string } {
  let b = seed;
  const how: string[] = [];
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) {
    const [next, what] = mutateOnce(b, r, hot);
    b = next;
    how.push(what);
  }
  return { bytes: b, how: how.join('; ') };
}

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1, 0.5, -0.5, 3, 224, 1e308, -1e308, 2 ** 53, 2 ** 31, '', 'x', '224', 'bicubic', [], [0], [1, 2], [0.5, 0.5, 0.5], [224, 224], [-1, 0, 1e9], {}, { height: 224, width: 224 }, { shortest_edge: 0 }, { height: -3, width: 1e12 }];

/** Structural edits of a JSON value: replace, delete or add members with odd values. */
export function mutateJson(seed: unknown, r: Random): { bytes: Uint8Array; how: string } {
  const value = JSON.parse(JSON.stringify(seed)) as unknown;
  const how: string[] = [];
  const n = 1 + int(r, 3);
  for (let i = 0; i < n; i++) {
    // Walk to a random container.
    let node = value;
    const path: string[] = [];
    for (let depth = 0; depth < 3; depth++) {
      const keys = node && typeof node === 'object' ? Object.keys(node) : [];
      const child = keys.length ? keys[int(r, keys.length)]! : undefined;
      const next = child === undefined ? undefined : (node as Record<string, unknown>)[child];
      if (!next || typeof next !== 'object' || r() < 0.4) break;
      node = next;
      path.push(child!);
    }
    if (!node || typeof node !== 'object') break;
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    const odd = structuredClone(ODD_VALUES[int(r, ODD_VALUES.length)]);
    const op = int(r, 4);
    if (op === 0 && keys.length) {
      const k = keys[int(r, keys.length)]!;
      delete obj[k];
      how.push(`delete ${[...path, k].join('.')}`);
    } else if (op === 1 && keys.length) {
      const k = keys[int(r, keys.length)]!;
      const other = keys[int(r, keys.length)]!;
      obj[k] = structuredClone(obj[other]);
      how.push(`${[...path, k].join('.')} = value of ${other}`);
    } else {
      const k = keys.length && op !== 3 ? keys[int(r, keys.length)]! : ['image_size', 'patch_size', 'num_heads', 'hidden_size', 'size', 'crop_size', 'mean', 'std', 'input_size', 'interpolation', 'id2label', 'num_attention_heads', '__proto__'][int(r, 13)]!;
      obj[k] = odd;
      how.push(`${[...path, k].join('.')} = ${JSON.stringify(odd)}`);
    }
  }
  return { bytes: new TextEncoder().encode(JSON.stringify(value)), how: how.join('; ') };
}
