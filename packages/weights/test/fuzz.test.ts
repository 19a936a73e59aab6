import * as fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VitkitError } from '@vitkit/core';
import { parseNpz, parseSafetensors } from '../src/index.js';
import { fixtureBytes } from './helpers.js';

/**
 * Property: whatever bytes arrive, the parsers either return tensors or
 * throw a VitkitError; never a raw RangeError/TypeError, never a hang.
 */

/** Random damage to a file: byte overwrites, truncation, insertions, header-length edits. */
function mutations(size: number) {
  const overwrite = fc.record({ kind: fc.constant('set' as const), at: fc.nat(size - 1), value: fc.nat(255) });
  const truncate = fc.record({ kind: fc.constant('cut' as const), at: fc.nat(size) });
  const insert = fc.record({ kind: fc.constant('insert' as const), at: fc.nat(size), bytes: fc.uint8Array({ maxLength: 16 }) });
  const nearStart = fc.record({ kind: fc.constant('set' as const), at: fc.nat(Math.min(size - 1, 600)), value: fc.nat(255) });
  const nearEnd = fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: Math.max(0, size - 600), max: size - 1 }), value: fc.nat(255) });
  return fc.array(fc.oneof(overwrite, truncate, insert, nearStart, nearEnd, nearStart), { minLength: 1, maxLength: 6 });
}

type Mutation = { kind: 'set'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

function apply(original: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = new Uint8Array(original);
  for (const m of ms) {
    if (m.kind === 'set') {
      if (m.at < b.length) b[m.at] = m.value;
    } else if (m.kind === 'cut') b = b.slice(0, Math.min(m.at, b.length));
    else {
      const at = Math.min(m.at, b.length);
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(at), at + m.bytes.length);
      b = out;
    }
  }
  return b;
}

/** How many inputs parsed and how many threw a VitkitError: both must occur, or the test exercises nothing. */
const outcomes = { parsed: 0, rejected: 0 };

function parsesOrThrowsTyped(run: () => unknown): boolean {
  try {
    run();
    outcomes.parsed++;
    return true;
  } catch (e) {
    if (e instanceof VitkitError) {
      outcomes.rejected++;
      return true;
    }
    throw e;
  }
}

async function parsesOrThrowsTypedAsync(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    outcomes.parsed++;
    return true;
  } catch (e) {
    if (e instanceof VitkitError) {
      outcomes.rejected++;
      return true;
    }
    throw e;
  }
}

beforeEach(() => {
  outcomes.parsed = 0;
  outcomes.rejected = 0;
});

afterEach(() => {
  // Each property saw both valid and invalid inputs.
  if (outcomes.parsed + outcomes.rejected > 0) {
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  }
});

describe('mutated files never crash the parsers', () => {
  it('safetensors: 3000 mutated copies of timm.safetensors', () => {
    const original = fixtureBytes('vit-micro/timm.safetensors');
    fc.assert(
      fc.property(mutations(original.length), (ms) => parsesOrThrowsTyped(() => parseSafetensors(apply(original, ms as Mutation[])))),
      { numRuns: 3000, seed: 1 },
    );
  });

  it('safetensors: random JSON headers over random data', () => {
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'BOOL', 'X'), fc.anything()),
        shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 4 }), fc.anything()),
        data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -4, max: 300 }), fc.integer({ min: -4, max: 300 })), fc.anything()),
      },
      { requiredKeys: [] },
    );
    const header = fc.dictionary(fc.oneof(fc.string(), fc.constant('__metadata__')), fc.oneof(entry, fc.anything()), { maxKeys: 6 });
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 300 }), (h, data) => {
        const text = new TextEncoder().encode(JSON.stringify(h));
        const bytes = new Uint8Array(8 + text.length + data.length);
        new DataView(bytes.buffer).setUint32(0, text.length, true);
        bytes.set(text, 8);
        bytes.set(data, 8 + text.length);
        return parsesOrThrowsTyped(() => parseSafetensors(bytes));
      }),
      { numRuns: 2000, seed: 2 },
    );
  });

  it('npz: 2000 mutated copies of jax.npz', async () => {
    const original = fixtureBytes('vit-micro/jax.npz');
    await fc.assert(
      fc.asyncProperty(mutations(original.length), (ms) => parsesOrThrowsTypedAsync(() => parseNpz(apply(original, ms as Mutation[])))),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('npz: mutations aimed at the central directory and the .npy headers', async () => {
    const original = fixtureBytes('vit-micro/jax.npz');
    // The central directory sits at the end; each entry's .npy header follows its local header.
    const targeted = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: original.length - 4000, max: original.length - 1 }), value: fc.nat(255) }),
        fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: 30, max: 160 }), value: fc.nat(255) }),
      ),
      { minLength: 1, maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(targeted, (ms) => parsesOrThrowsTypedAsync(() => parseNpz(apply(original, ms as Mutation[])))),
      { numRuns: 1500, seed: 4 },
    );
  });

  it('a broken header brace fails typed', () => {
    const original = fixtureBytes('vit-micro/timm.safetensors');
    expect(() => parseSafetensors(apply(original, [{ kind: 'set', at: 8, value: 0x78 }]))).toThrow(VitkitError);
  });
});
