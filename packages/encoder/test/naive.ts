// Plain-JS reference implementations (loops over arrays) of timm's attention
// and MLP, from PyTorch-layout weights, to check the tfjs versions against.

/** Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, plenty for 1e-5 comparisons. */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** y[o] = sum_i x[i] W[o][i] + b[o], W in torch [out, in] layout (flat). */
function linearRow(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, inDim: number, outDim: number): number[] {
  const y: number[] = [];
  for (let o = 0; o < outDim; o++) {
    let acc = b ? b[o]! : 0;
    for (let i = 0; i < inDim; i++) acc += x[i]! * w[o * inDim + i]!;
    y.push(acc);
  }
  return y;
}

export interface AttentionWeights {
  qkvW: Float32Array; // [3D, D]
  qkvB: Float32Array; // [3D]
  projW: Float32Array; // [D, D]
  projB: Float32Array; // [D]
}

/** Multi-head self-attention on x [T][D] (one sample): returns output [T][D] and probabilities [H][T][T]. */
export function naiveAttention(x: number[][], w: AttentionWeights, heads: number): { output: number[][]; probs: number[][][] } {
  const t = x.length;
  const d = x[0]!.length;
  const dh = d / heads;
  const qkv = x.map((row) => linearRow(row, w.qkvW, w.qkvB, d, 3 * d));
  const probs: number[][][] = [];
  const ctx = x.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < heads; h++) {
    const ph: number[][] = [];
    for (let i = 0; i < t; i++) {
      const scores: number[] = [];
      for (let j = 0; j < t; j++) {
        let s = 0;
        for (let e = 0; e < dh; e++) s += qkv[i]![h * dh + e]! * qkv[j]![d + h * dh + e]!;
        scores.push(s / Math.sqrt(dh));
      }
      const m = Math.max(...scores);
      const ex = scores.map((s) => Math.exp(s - m));
      const z = ex.reduce((a, b) => a + b, 0);
      const p = ex.map((e) => e / z);
      ph.push(p);
      for (let e = 0; e < dh; e++) {
        let acc = 0;
        for (let j = 0; j < t; j++) acc += p[j]! * qkv[j]![2 * d + h * dh + e]!;
        ctx[i]![h * dh + e] = acc;
      }
    }
    probs.push(ph);
  }
  return { output: ctx.map((row) => linearRow(row, w.projW, w.projB, d, d)), probs };
}

/** fc2(gelu(fc1(x))) on one token. */
export function naiveMlp(x: number[], fc1W: Float32Array, fc1B: Float32Array, fc2W: Float32Array, fc2B: Float32Array, hidden: number): number[] {
  const d = x.length;
  return linearRow(linearRow(x, fc1W, fc1B, d, hidden).map(gelu), fc2W, fc2B, hidden, d);
}
