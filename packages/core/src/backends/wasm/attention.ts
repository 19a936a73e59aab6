import { ATTENTION_SHARED_WASM_BASE64, ATTENTION_WASM_BASE64 } from './attention_binary.js';
import { wasmMatMulTuning } from './batch_matmul.js';
import { heapOffset, instantiateOnHeap, type WasmHeapBackend } from './heap_kernels.js';

/**
 * The SIMD attention module (attention.wat) over tfjs-backend-wasm's memory,
 * behind the fused attention kernels on wasm: q, k and v read where the qkv
 * projection wrote them, the context written in merged-head layout.
 */
interface AttentionExports {
  attention(qkv: number, ctx: number, probs: number, scratch: number, batch: number, tokens: number, heads: number, headDim: number, scale: number): void;
  attention_grad(
    dy: number, qkv: number, probs: number, dprobs: number, hasDprobs: number, dqkv: number, scratch: number,
    batch: number, tokens: number, heads: number, headDim: number, scale: number,
  ): void;
}

type Tensor = { dataId: object };

/** Sizes of one attention call: qkv is [batch * tokens, 3 * heads * headDim]. */
export interface AttentionShape {
  batch: number;
  tokens: number;
  heads: number;
  headDim: number;
  scale: number;
}

export interface WasmAttention {
  forward(t: { qkv: Tensor; context: Tensor; probs: Tensor }, s: AttentionShape): void;
  backward(t: { dy: Tensor; qkv: Tensor; probs: Tensor; dprobs?: Tensor; dqkv: Tensor }, s: AttentionShape): void;
}

/** The module over `backend`'s memory, or undefined (no wasm SIMD, no exported memory). */
export function wasmAttention(backend: WasmHeapBackend): WasmAttention | undefined {
  return instantiateOnHeap(backend, ATTENTION_WASM_BASE64, ATTENTION_SHARED_WASM_BASE64, (m: AttentionExports) => wrapAttention(m, backend));
}

function wrapAttention(m: AttentionExports, backend: WasmHeapBackend): WasmAttention {
  const at = (t: Tensor): number => heapOffset(backend, t);
  return {
    forward: (t, s) => {
      // One head's k^T.
      const scratch = backend.makeOutput([Math.max(s.headDim * s.tokens, 1)], 'float32');
      try {
        m.attention(at(t.qkv), at(t.context), at(t.probs), at(scratch), s.batch, s.tokens, s.heads, s.headDim, s.scale);
      } finally {
        backend.disposeData(scratch.dataId);
      }
    },
    backward: (t, s) => {
      // One head's v^T, then its ds [T, T].
      const scratch = backend.makeOutput([Math.max(s.headDim * s.tokens + s.tokens * s.tokens, 1)], 'float32');
      try {
        const dprobs = t.dprobs ? at(t.dprobs) : 0;
        m.attention_grad(at(t.dy), at(t.qkv), at(t.probs), dprobs, t.dprobs ? 1 : 0, at(t.dqkv), at(scratch), s.batch, s.tokens, s.heads, s.headDim, s.scale);
      } finally {
        backend.disposeData(scratch.dataId);
      }
    },
  };
}

/**
 * Whether the fused kernel beats the composite ops on wasm for heads of
 * `tokens` x `headDim`: always on one thread (the module runs on the
 * calling thread), and on several only while each head's product is
 * smaller than what the BatchMatMul override hands to XNNPACK's threads
 * (wasmMatMulTuning.slicedMinWork). Measured (docs/experiments/training-speed.md): the
 * recipe model's training step (16 tokens, Dh 24) 8% faster fused on 2
 * threads; ViT-Ti/16 and ViT-B/16 inference (197 tokens, Dh 64) 3-5% slower
 * fused on 2 threads, 3% faster on 1.
 */
export function wasmAttentionPays(backend: unknown, tokens: number, headDim: number): boolean {
  if (tokens * tokens * headDim < wasmMatMulTuning.slicedMinWork) return true;
  const threads = (backend as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm?.tfjs?.getThreadsCount?.();
  return threads === undefined || threads <= 1;
}
