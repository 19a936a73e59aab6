import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { VitkitError, setupBackend } from '@vitkit/core';
import { createViT } from '@vitkit/vit';
import { median } from '../measure.js';
import { ONNX_INPUT, ONNX_OUTPUT, exportViTToOnnx } from './export_vit.js';
import { loadOnnxRuntime, type OnnxRuntime, type OrtSession } from './onnx_runtime.js';

/** vitkit's outputs must match onnxruntime's this closely (absolute) for the timings to count. */
export const ONNX_TOLERANCE = 1e-4;

export interface OnnxComparisonOptions {
  preset: string;
  batch: number;
  /** Threads for both: wasm's pool and onnxruntime's intra-op pool. */
  threads: number;
  /** Timed runs per engine and round. */
  runs: number;
  warmup: number;
  /** Alternating measurement rounds (vitkit, then onnxruntime), so that load changes hit both alike. */
  rounds: number;
  log?: (line: string) => void;
}

export interface OnnxComparison {
  mode: 'onnx-compare';
  preset: string;
  batch: number;
  threads: number;
  vitkit_backend: string;
  vitkit_ms: number;
  onnxruntime_ms: number;
  /** vitkit_ms / onnxruntime_ms. */
  ratio: number;
  max_abs_diff: number;
  onnxruntime_version: string;
  /** 1-minute load average before and after, from os.loadavg(). */
  load_before: number;
  load_after: number;
}

/** The two engines disagree beyond ONNX_TOLERANCE: the export (or a kernel) is wrong. */
export class OnnxMismatchError extends VitkitError {
  constructor(reason: string) {
    super('E_ONNX_MISMATCH', reason, 'the timings are not comparable; report this with the preset and backend');
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length && i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Exports a seeded vitkit ViT to ONNX with the same weights, runs it under
 * onnxruntime-node and under vitkit on the wasm backend in this process,
 * checks the logits agree to ONNX_TOLERANCE, and measures both (median of
 * all timed runs, alternating rounds after warm-up).
 */
export async function compareWithOnnxRuntime(o: OnnxComparisonOptions): Promise<OnnxComparison> {
  const loadBefore = loadavg()[0]!;
  const ort: OnnxRuntime = loadOnnxRuntime(o.log ? { log: o.log } : {});
  const setup = await setupBackend('wasm', { wasmThreads: o.threads });
  const model = createViT(o.preset, {}, { seed: 0 });
  const [h, w] = model.config.imageSize;
  const shape = [o.batch, h, w, model.config.inChannels];
  const input = tf.randomUniform(shape, -1, 1, 'float32', 1);
  let session: OrtSession | undefined;
  try {
    o.log?.(`exporting ${o.preset} (batch ${o.batch}) to ONNX ...`);
    session = await ort.InferenceSession.create(exportViTToOnnx(model, o.batch), {
      intraOpNumThreads: o.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
    const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', input.dataSync() as Float32Array, shape) };
    const runOrt = async (): Promise<Float32Array> => (await session!.run(feeds))[ONNX_OUTPUT]!.data as Float32Array;
    const runVitkit = async (): Promise<Float32Array> => {
      const logits = model.predict(input);
      try {
        return (await logits.data()) as Float32Array;
      } finally {
        logits.dispose();
      }
    };

    const diff = maxAbsDiff(await runVitkit(), await runOrt());
    if (!(diff <= ONNX_TOLERANCE)) {
      throw new OnnxMismatchError(`vitkit and onnxruntime logits differ by ${diff} (tolerance ${ONNX_TOLERANCE}) for ${o.preset}`);
    }

    const times = { vitkit: [] as number[], ort: [] as number[] };
    const measure = async (run: () => Promise<unknown>, into: number[]): Promise<void> => {
      for (let i = 0; i < o.warmup + o.runs; i++) {
        const start = performance.now();
        await run();
        if (i >= o.warmup) into.push(performance.now() - start);
      }
      // Let the other engine's threads start from idle (onnxruntime's pool spins briefly after each run).
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    for (let r = 0; r < o.rounds; r++) {
      o.log?.(`round ${r + 1}/${o.rounds}: vitkit (wasm, ${setup.threads} threads), then onnxruntime (${o.threads} threads) ...`);
      await measure(runVitkit, times.vitkit);
      await measure(runOrt, times.ort);
    }
    const vitkitMs = median(times.vitkit);
    const ortMs = median(times.ort);
    return {
      mode: 'onnx-compare',
      preset: o.preset,
      batch: o.batch,
      threads: setup.threads,
      vitkit_backend: setup.name,
      vitkit_ms: round(vitkitMs, 1),
      onnxruntime_ms: round(ortMs, 1),
      ratio: round(vitkitMs / ortMs, 2),
      max_abs_diff: diff,
      onnxruntime_version: ort.env.versions?.common ?? 'unknown',
      load_before: round(loadBefore, 2),
      load_after: round(loadavg()[0]!, 2),
    };
  } finally {
    await session?.release?.();
    input.dispose();
    model.dispose();
  }
}
