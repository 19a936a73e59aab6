// One measurement per page load (a wasm backend's threads are fixed at init):
// ?engine=vitkit|ort&preset=...&threads=N&runs=N&warmup=N. Both engines run the
// same seeded weights (vitkit builds them, onnxruntime-web loads their ONNX
// export) on the same input, and both are checked against vitkit's Node logits.
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, createViT } from '@vitkit/vit';
import glue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import worker from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js?url';
import threadedWasm from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm?url';
import plainWasm from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.wasm?url';

const q = new URLSearchParams(location.search);
const engine = q.get('engine') ?? 'vitkit';
const preset = q.get('preset') ?? 'vit_tiny_patch16_224';
const threads = Number(q.get('threads') ?? 1);
const runs = Number(q.get('runs') ?? 5);
const warmup = Number(q.get('warmup') ?? 2);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function measure(run: () => Promise<Float32Array>): Promise<{ ms: number; times: number[]; out: Float32Array }> {
  let out = await run();
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t = performance.now();
    out = await run();
    if (i >= warmup) times.push(performance.now() - t);
  }
  return { ms: median(times), times, out };
}

async function main(): Promise<unknown> {
  const input = new Float32Array(await (await fetch(`models/${preset}.input.bin`)).arrayBuffer());
  const nodeLogits = new Float32Array(await (await fetch(`models/${preset}.node-logits.bin`)).arrayBuffer());
  let actualThreads = threads;
  let result: { ms: number; times: number[]; out: Float32Array };
  if (engine === 'vitkit') {
    const backend = await setupBackend('wasm', {
      loaders: { wasm: () => import('@tensorflow/tfjs-backend-wasm') },
      wasmThreads: threads,
      wasmAssets: {
        files: {
          'tfjs-backend-wasm-threaded-simd.js': glue,
          'tfjs-backend-wasm-threaded-simd.worker.js': worker,
          'tfjs-backend-wasm-threaded-simd.wasm': threadedWasm,
          'tfjs-backend-wasm-simd.wasm': simdWasm,
          'tfjs-backend-wasm.wasm': plainWasm,
        },
      },
    });
    actualThreads = backend.threads;
    const model = createViT(preset, {}, { seed: 0 });
    const [h, w] = model.config.imageSize;
    const x = tf.tensor(input, [1, h, w, model.config.inChannels]);
    result = await measure(async () => {
      const logits = model.predict(x);
      try {
        return (await logits.data()) as Float32Array;
      } finally {
        logits.dispose();
      }
    });
  } else {
    const ort = await import('onnxruntime-web/wasm');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
    const session = await ort.InferenceSession.create(`models/${preset}.onnx`, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const size = Math.round(Math.sqrt(input.length / 3));
    const feeds = { pixels: new ort.Tensor('float32', input, [1, size, size, 3]) };
    result = await measure(async () => (await session.run(feeds)).logits!.data as Float32Array);
    actualThreads = ort.env.wasm.numThreads ?? threads;
  }
  let maxDiff = 0;
  for (let i = 0; i < nodeLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(result.out[i]! - nodeLogits[i]!));
  return { engine, preset, threads, actualThreads, ms: result.ms, times: result.times, maxDiffVsNode: maxDiff, crossOriginIsolated, cores: navigator.hardwareConcurrency };
}

main().then(
  (r) => {
    Object.assign(globalThis, { benchResult: r });
    document.getElementById('out')!.textContent = JSON.stringify(r, null, 2);
  },
  (e: unknown) => {
    Object.assign(globalThis, { benchResult: { error: e instanceof Error ? e.message : String(e) } });
  },
);
