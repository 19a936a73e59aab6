import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError, setupBackend } from '@vitkit/core';
import { PatchEmbedding } from '../src/index.js';

/** torch Conv2d(C, D, kernel=P, stride=P) on NHWC input, flattened to [B, N, D] in row-major patch order. */
function naivePatchConv(x: Float32Array, [b, h, w, c]: [number, number, number, number], weight: Float32Array, bias: Float32Array, d: number, p: number): Float32Array {
  const gh = h / p;
  const gw = w / p;
  const out = new Float32Array(b * gh * gw * d);
  for (let n = 0; n < b; n++)
    for (let gy = 0; gy < gh; gy++)
      for (let gx = 0; gx < gw; gx++)
        for (let o = 0; o < d; o++) {
          let acc = bias[o]!;
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < p; i++)
              for (let j = 0; j < p; j++) {
                const xv = x[((n * h + gy * p + i) * w + gx * p + j) * c + ch]!;
                const wv = weight[((o * c + ch) * p + i) * p + j]!; // torch [D, C, P, P]
                acc += xv * wv;
              }
          out[((n * gh + gy) * gw + gx) * d + o] = acc;
        }
  return out;
}

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

describe.each(['cpu', 'wasm'] as const)('PatchEmbedding on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it.each([
    { b: 2, h: 8, w: 12, c: 3, p: 4, d: 5 },
    { b: 1, h: 6, w: 6, c: 2, p: 3, d: 7 },
    { b: 3, h: 4, w: 4, c: 1, p: 4, d: 2 },
  ])('equals a naive strided convolution ($b x $h x $w x $c, patch $p, dim $d)', ({ b, h, w, c, p, d }) => {
    const rng = new Rng(h * 100 + w * 10 + c);
    const x = randomArray(b * h * w * c, rng);
    const weight = randomArray(d * c * p * p, rng);
    const bias = randomArray(d, rng);
    const layer = new PatchEmbedding({ imageSize: [h, w], patchSize: p, inChannels: c, embedDim: d }, { seed: 1 });
    const state = new Map([
      ['proj.weight', tf.tensor(weight, [d, c, p, p])],
      ['proj.bias', tf.tensor(bias, [d])],
    ]);
    layer.loadStateDict(state);
    const input = tf.tensor(x, [b, h, w, c]);
    const before = tf.memory().numTensors;
    const out = layer.forward(input);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(out.shape).toEqual([b, (h / p) * (w / p), d]);
    const expected = naivePatchConv(x, [b, h, w, c], weight, bias, d, p);
    const got = out.dataSync();
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([out, input, ...state.values()]);
    layer.dispose();
  });
});

describe('PatchEmbedding parameters and errors', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  const make = () => new PatchEmbedding({ imageSize: [32, 32], patchSize: 8, inChannels: 3, embedDim: 16 }, { seed: 2 });

  it('names and shapes its parameters as timm (torch Conv2d layout)', () => {
    const layer = make();
    const state = layer.stateDict();
    expect([...state.keys()]).toEqual(['proj.weight', 'proj.bias']);
    expect(state.get('proj.weight')!.shape).toEqual([16, 3, 8, 8]);
    expect(state.get('proj.bias')!.shape).toEqual([16]);
    expect(layer.namedParameters().get('proj.weight')!.decay).toBe(true);
    expect(layer.namedParameters().get('proj.bias')!.decay).toBe(false);
    expect(layer.numPatches).toBe(16);
    tf.dispose([...state.values()]);
    layer.dispose();
  });

  it('initializes like PyTorch Conv2d: uniform within 1/sqrt(fan_in)', () => {
    const layer = make();
    const w = layer.weight.dataSync();
    const bound = 1 / Math.sqrt(8 * 8 * 3);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    layer.dispose();
  });

  it('rejects geometry it cannot build with a ConfigError', () => {
    expect(() => new PatchEmbedding({ imageSize: 30, patchSize: 8, inChannels: 3, embedDim: 4 })).toThrow(ConfigError);
    expect(() => new PatchEmbedding({ imageSize: [32, 30], patchSize: 8, inChannels: 3, embedDim: 4 })).toThrow(/width 30 is not a multiple/);
    expect(() => new PatchEmbedding({ imageSize: 32, patchSize: 0, inChannels: 3, embedDim: 4 })).toThrow(ConfigError);
    expect(() => new PatchEmbedding({ imageSize: 32, patchSize: 8, inChannels: 3, embedDim: 0 })).toThrow(ConfigError);
  });

  it.each([
    ['rank 3', [32, 32, 3], /rank 4/],
    ['NCHW', [1, 3, 32, 32], /NCHW/],
    ['wrong channels', [1, 32, 32, 1], /3 channels/],
    ['wrong size', [1, 16, 16, 3], /16x16 does not match the model's 32x32/],
    ['not a multiple of the patch', [1, 36, 36, 3], /not a multiple of the patch size 8/],
  ])('rejects %s input with a ShapeError', (_name, shape, message) => {
    const layer = make();
    const x = tf.zeros(shape as number[]);
    const before = tf.memory().numTensors;
    expect(() => layer.forward(x)).toThrow(ShapeError);
    expect(() => layer.forward(x)).toThrow(message as RegExp);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    layer.dispose();
  });
});
