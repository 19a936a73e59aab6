// `vit bench`: inference latency, throughput, achieved GFLOP/s and peak memory
// per preset, batch and backend, training img/s of the trainer's default
// model, and (--compare-onnx) the same ViT under onnxruntime-node. Each
// configuration runs in a fresh child process, so peak RSS and backend state
// belong to it alone.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isPresetName, presetConfig, presetNames, setupBackend, BACKEND_NAMES, VitkitError, type BackendName, type SetupBackendOptions } from '@vitkit/core';
import { createViT } from '@vitkit/vit';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, numberFlag, stringFlag } from '../flags.js';
import { forwardFlopsPerImage } from '../bench/flops.js';
import { median, timeInference } from '../bench/measure.js';
import { compareWithOnnxRuntime, type OnnxComparison } from '../bench/onnx/compare.js';
import { profileForward, profileTable, profileTrainingStep, type KernelProfile } from '../bench/profile.js';
import { measureTorchTraining, type TorchComparison } from '../bench/torch.js';
import { measureTrainingModel, trainingModelLabel } from '../bench/training.js';
import { benchFinetune, parseFinetuneModes } from '../bench/finetune.js';
import { readConfigSpec } from '../train/model_setup.js';

const DEFAULT_PRESETS = ['vit_tiny_patch16_224', 'vit_small_patch16_224', 'vit_base_patch16_224'];
const DEFAULT_BATCHES = [1, 8];
const DEFAULT_ONNX_PRESETS = ['vit_base_patch16_224'];
const DEFAULT_ONNX_BATCHES = [1];

export interface BenchResult {
  mode: 'inference' | 'train';
  preset: string;
  backend: string;
  threads: number;
  batch: number;
  median_ms: number;
  img_per_s: number;
  /** Achieved GFLOP/s of the matrix products (training: forward + backward, counted as 3x forward). */
  gflops: number;
  peak_rss_mb: number;
  /** 1-minute load average of the machine when the measurement started (os.loadavg). */
  load_1m: number;
  /** wasm only: whether vitkit's wasm kernels ran (simd) or tfjs's stock ones (stock). */
  wasm_matmul?: WasmMatMul;
}

/** The wasm backend's kernels: vitkit's (BatchMatMul, Unpack; the default) or tfjs's stock ones. */
type WasmMatMul = 'simd' | 'stock';
const WASM_MATMULS: readonly WasmMatMul[] = ['simd', 'stock'];

const USAGE = `usage: vit bench [--preset NAME[,NAME...]] [--batch N[,N...]] [--backend NAME[,NAME...]] [--runs N] [--warmup N] [--json]
       vit bench --profile [--preset NAME] [--batch N] [--backend NAME[,NAME...]] [--threads N] [--top N] [--json]
       vit bench --compare-torch [--train-config C] [--threads N] [--runs N] [--warmup N] [--rounds N] [--json]
       vit bench --compare-onnx [--preset NAME[,NAME...]] [--batch N[,N...]] [--threads N] [--runs N] [--rounds N] [--json]
       vit bench --finetune full,blocks:1,probe-cached [--preset NAME] [--batch N] [--backend NAME] [--runs N] [--rounds N] [--json]

Measures inference of timm presets (median latency after warm-up, img/s, achieved
GFLOP/s, peak RSS) for each backend, each configuration in a fresh process, then
the training throughput (img/s) of the model \`vit train\` builds by default.

  --preset LIST     presets (default ${DEFAULT_PRESETS.join(',')})
  --batch LIST      batch sizes (default ${DEFAULT_BATCHES.join(',')})
  --backend LIST    backends (default: tensorflow when installed, and wasm; cpu only when named — it is ~100x slower)
  --runs N          timed runs per configuration, or training steps (default 5)
  --warmup N        untimed runs first (default 2)
  --threads N       wasm threads (default: available cores)
  --wasm-matmul LIST  wasm kernels: simd (vitkit's BatchMatMul and Unpack, default), stock (tfjs's), or stock,simd to compare
  --no-train        skip the training-throughput measurement of the trainer's default model
  --train-config C  measure training of this model instead (a config.json or preset, as vit train --config)
  --finetune LIST   training img/s per fine-tuning mode (full, probe, probe-cached, blocks:K), measured
                    alternately in one process (default ViT-Ti/16 at 224, batch 16, wasm, 2 steps x 2 rounds)
  --json            print {"results": [{"mode", "preset", "backend", "batch", "median_ms", "img_per_s", "gflops", "peak_rss_mb", "load_1m", "wasm_matmul", ...}]}

--profile counts the kernels (tf.profile) launched by one training step of the
trainer's default model (or --train-config) and by one forward pass of a preset
(default vit_tiny_patch16_224, batch 1), after one unprofiled warm-up each, and
prints launches and summed milliseconds by kernel name, slowest first (default
backend wasm). Per-kernel timing adds overhead: compare counts and shares, and
wall times only between profiles.

  --top N           rows per table (default 25; --json always lists all)

--compare-torch measures training img/s of the trainer's default model (or
--train-config) on vitkit wasm and under PyTorch on CPU (bench/pytorch_train.py:
same model and step, random data, batch 128), alternating --rounds times (default
3; --runs 20 steps after --warmup 10), both with --threads threads (default 2),
and reports the medians, their ratio and the BLAS PyTorch loaded (install
libopenblas0-pthread: on the reference BLAS PyTorch is ~4x slower). PyTorch runs under /usr/bin/python3 (Debian's python3-torch) unless
VITKIT_PYTHON names another interpreter.

--compare-onnx exports the same seeded ViT (same weights) to ONNX, runs it under
onnxruntime-node and under vitkit on wasm in one process, checks that the logits
agree to 1e-4, and reports both median latencies and their ratio (default preset
${DEFAULT_ONNX_PRESETS[0]}, batch 1, ${'--threads'} = available cores for both engines).
onnxruntime-node is installed into bench/onnx/ on first use (npm install --prefix bench/onnx).

  --rounds N        alternating vitkit/onnxruntime measurement rounds (default 2)`;

/** A benchmark child process failed. */
export class BenchFailedError extends VitkitError {
  constructor(reason: string) {
    super('E_BENCH', reason, 'run that configuration alone to see the full error');
  }
}

function list(flags: Flags, name: string): string[] | undefined {
  const raw = stringFlag(flags, name);
  return raw === undefined ? undefined : raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function positiveInts(values: string[], name: string): number[] {
  return values.map((b) => {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} values must be positive integers, got "${b}"`);
    return n;
  });
}

function checkedPresets(presets: string[]): string[] {
  for (const p of presets) {
    if (!isPresetName(p)) throw new UsageError(`unknown preset "${p}"`, `use one of: ${presetNames().join(', ')}`);
    presetConfig(p); // validates
  }
  return presets;
}

/** Backends that can be set up here, best first (probing each in a child would cost a process each; tfjs-node is probed by import). */
async function defaultBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ pkg);
      out.push('tensorflow');
      break;
    } catch {
      // not installed: skip
    }
  }
  out.push('wasm');
  return out;
}

const cliPath = fileURLToPath(new URL('../cli.ts', import.meta.url));

function runChild<T>(args: string[], quiet: boolean): T {
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', cliPath, 'bench', ...args], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    const detail = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.status}`;
    throw new BenchFailedError(`benchmark run failed (${args.join(' ')}): ${detail}`);
  }
  return JSON.parse(line) as T;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/** A child's wasm kernels: the parent passes it one --wasm-matmul value. */
function childWasmMatMul(flags: Flags): WasmMatMul {
  return stringFlag(flags, 'wasm-matmul') === 'stock' ? 'stock' : 'simd';
}

/** setupBackend options of a child: its thread count and wasm kernels. */
function childBackendOptions(flags: Flags, threads: number | undefined): SetupBackendOptions {
  return { ...(threads === undefined ? {} : { wasmThreads: threads }), wasmKernels: childWasmMatMul(flags) === 'simd' };
}

/** A backend's name in tables: wasm on the stock kernels is marked. */
function backendLabel(backend: string, matmul: WasmMatMul | undefined): string {
  return matmul === 'stock' ? `${backend} (stock matmul)` : backend;
}

function wasmMatMulField(backend: BackendName, flags: Flags): { wasm_matmul?: WasmMatMul } {
  return backend === 'wasm' ? { wasm_matmul: childWasmMatMul(flags) } : {};
}

/** One inference configuration, measured in this process (the --child side). */
async function measureInference(flags: Flags): Promise<BenchResult> {
  const load = loadavg()[0]!;
  const preset = stringFlag(flags, 'preset')!;
  const backend = stringFlag(flags, 'backend') as BackendName;
  const batch = numberFlag(flags, 'batch', { integer: true, min: 1 })!;
  const runs = numberFlag(flags, 'runs', { integer: true, min: 1 }) ?? 5;
  const warmup = numberFlag(flags, 'warmup', { integer: true, min: 0 }) ?? 2;
  const threads = numberFlag(flags, 'threads', { integer: true, min: 1 });
  const setup = await setupBackend(backend, childBackendOptions(flags, threads));
  const model = createViT(preset, {}, { seed: 0 });
  try {
    const times = await timeInference(model, batch, runs, warmup);
    const ms = median(times);
    const flops = forwardFlopsPerImage(model.config) * batch;
    return {
      mode: 'inference',
      preset,
      backend: setup.name,
      threads: setup.threads,
      batch,
      median_ms: round(ms, 2),
      img_per_s: round((batch * 1000) / ms, 2),
      gflops: round(flops / (ms * 1e6), 2),
      peak_rss_mb: peakRssMb(),
      load_1m: round(load, 2),
      ...wasmMatMulField(setup.name, flags),
    };
  } finally {
    model.dispose();
  }
}

/** Training img/s of the trainer's default model (the --child-train side). */
async function measureTraining(flags: Flags): Promise<BenchResult> {
  const load = loadavg()[0]!;
  const backend = stringFlag(flags, 'backend') as BackendName;
  const steps = numberFlag(flags, 'runs', { integer: true, min: 1 }) ?? 5;
  const warmup = numberFlag(flags, 'warmup', { integer: true, min: 0 }) ?? 1;
  const threads = numberFlag(flags, 'threads', { integer: true, min: 1 });
  const setup = await setupBackend(backend, childBackendOptions(flags, threads));
  const { model, throughput } = await measureTrainingModel(steps, Math.max(1, warmup), stringFlag(flags, 'train-config'));
  try {
    // Backward costs about twice the forward pass: 3x forward FLOPs per image.
    const flops = 3 * forwardFlopsPerImage(model.config) * throughput.batch;
    return {
      mode: 'train',
      preset: trainingModelLabel(model, stringFlag(flags, 'train-config')),
      backend: setup.name,
      threads: setup.threads,
      batch: throughput.batch,
      median_ms: round(throughput.msPerStep, 2),
      img_per_s: round(throughput.imagesPerSecond, 2),
      gflops: round(flops / (throughput.msPerStep * 1e6), 2),
      peak_rss_mb: peakRssMb(),
      load_1m: round(load, 2),
      ...wasmMatMulField(setup.name, flags),
    };
  } finally {
    model.dispose();
  }
}

/** vitkit (wasm) vs onnxruntime-node on one preset and batch (the --child-onnx side). */
async function measureOnnx(flags: Flags): Promise<OnnxComparison & { peak_rss_mb: number }> {
  const threads = numberFlag(flags, 'threads', { integer: true, min: 1 }) ?? Math.min(8, availableParallelism());
  const result = await compareWithOnnxRuntime({
    preset: stringFlag(flags, 'preset')!,
    batch: numberFlag(flags, 'batch', { integer: true, min: 1 })!,
    threads,
    runs: numberFlag(flags, 'runs', { integer: true, min: 1 }) ?? 5,
    warmup: numberFlag(flags, 'warmup', { integer: true, min: 0 }) ?? 2,
    rounds: numberFlag(flags, 'rounds', { integer: true, min: 1 }) ?? 2,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  return { ...result, peak_rss_mb: peakRssMb() };
}

const PROFILE_PRESET = 'vit_tiny_patch16_224';

/** Kernel profiles of a training step and of forward passes, in this process (the --child-profile side). */
async function measureProfiles(flags: Flags): Promise<KernelProfile[]> {
  const backend = stringFlag(flags, 'backend') as BackendName;
  const threads = numberFlag(flags, 'threads', { integer: true, min: 1 });
  await setupBackend(backend, childBackendOptions(flags, threads));
  const out: KernelProfile[] = [];
  if (!booleanFlag(flags, 'no-train')) out.push(await profileTrainingStep({ ...(stringFlag(flags, 'train-config') === undefined ? {} : { configSpec: stringFlag(flags, 'train-config')! }) }));
  for (const preset of list(flags, 'preset') ?? [PROFILE_PRESET]) {
    for (const batch of positiveInts(list(flags, 'batch') ?? ['1'], 'batch')) out.push(await profileForward(preset, batch));
  }
  return out;
}

function table(head: string[], rows: string[][], leftColumns: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function resultsTable(results: BenchResult[]): string {
  const head = ['mode', 'preset', 'backend', 'threads', 'batch', 'median ms', 'img/s', 'GFLOP/s', 'peak RSS MB', 'load'];
  const rows = results.map((r) => [r.mode, r.preset, backendLabel(r.backend, r.wasm_matmul), String(r.threads), String(r.batch), r.median_ms.toFixed(1), r.img_per_s.toFixed(2), r.gflops.toFixed(1), r.peak_rss_mb.toFixed(0), r.load_1m.toFixed(2)]);
  return table(head, rows, 3);
}

function comparisonTable(results: OnnxComparison[]): string {
  const head = ['preset', 'batch', 'threads', 'vitkit wasm ms', 'onnxruntime ms', 'ratio', 'max |diff|', 'load'];
  const rows = results.map((r) => [r.preset, String(r.batch), String(r.threads), r.vitkit_ms.toFixed(1), r.onnxruntime_ms.toFixed(1), `${r.ratio.toFixed(2)}x`, r.max_abs_diff.toExponential(1), `${r.load_before.toFixed(2)} -> ${r.load_after.toFixed(2)}`]);
  return table(head, rows, 1);
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark inference (latency, img/s, GFLOP/s, peak memory), training throughput, and against onnxruntime',
  usage: USAGE,
  options: {
    preset: { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    threads: { type: 'string' },
    'wasm-matmul': { type: 'string' },
    'train-config': { type: 'string' },
    rounds: { type: 'string' },
    finetune: { type: 'string' },
    top: { type: 'string' },
    profile: { type: 'boolean' },
    'child-profile': { type: 'boolean' },
    'compare-onnx': { type: 'boolean' },
    'compare-torch': { type: 'boolean' },
    'no-train': { type: 'boolean' },
    json: { type: 'boolean' },
    child: { type: 'boolean' },
    'child-train': { type: 'boolean' },
    'child-onnx': { type: 'boolean' },
  },
  async run(flags: Flags): Promise<number> {
    const finetune = stringFlag(flags, 'finetune');
    if (finetune !== undefined) {
      const r = await benchFinetune({
        modes: parseFinetuneModes(finetune),
        preset: stringFlag(flags, 'preset') ?? 'vit_tiny_patch16_224',
        backend: (stringFlag(flags, 'backend') ?? 'wasm') as BackendName,
        batch: numberFlag(flags, 'batch', { integer: true, min: 1 }) ?? 16,
        steps: numberFlag(flags, 'runs', { integer: true, min: 1 }) ?? 2,
        rounds: numberFlag(flags, 'rounds', { integer: true, min: 1 }) ?? 2,
      });
      if (booleanFlag(flags, 'json')) console.log(JSON.stringify(r));
      else {
        console.log(`fine-tuning ${r.preset}, batch ${r.batch}, ${r.backend} (modes measured alternately, medians)`);
        for (const row of r.rows) {
          const embed = row.embed_img_per_s !== undefined ? `  (embedding once: ${row.embed_img_per_s.toFixed(1)} img/s)` : '';
          console.log(`${row.mode.padEnd(14)} ${row.img_per_s.toFixed(1).padStart(9)} img/s  ${row.ms_per_step.toFixed(0).padStart(7)} ms/step${embed}`);
        }
      }
      return 0;
    }
    if (booleanFlag(flags, 'child')) {
      console.log(JSON.stringify(await measureInference(flags)));
      return 0;
    }
    if (booleanFlag(flags, 'child-train')) {
      console.log(JSON.stringify(await measureTraining(flags)));
      return 0;
    }
    if (booleanFlag(flags, 'child-profile')) {
      console.log(JSON.stringify({ profiles: await measureProfiles(flags) }));
      return 0;
    }
    if (booleanFlag(flags, 'child-onnx')) {
      console.log(JSON.stringify(await measureOnnx(flags)));
      return 0;
    }
    const json = booleanFlag(flags, 'json');
    const log = (line: string): void => {
      if (!json) process.stderr.write(`bench: ${line}\n`);
    };
    numberFlag(flags, 'runs', { integer: true, min: 1 });
    numberFlag(flags, 'warmup', { integer: true, min: 0 });
    numberFlag(flags, 'threads', { integer: true, min: 1 });
    numberFlag(flags, 'rounds', { integer: true, min: 1 });
    const passThrough = ['runs', 'warmup', 'threads', 'rounds', 'train-config'].flatMap((k) => (stringFlag(flags, k) === undefined ? [] : [`--${k}`, stringFlag(flags, k)!]));

    if (booleanFlag(flags, 'profile')) {
      const top = numberFlag(flags, 'top', { integer: true, min: 1 }) ?? 25;
      const presets = checkedPresets(list(flags, 'preset') ?? [PROFILE_PRESET]);
      const batches = positiveInts(list(flags, 'batch') ?? ['1'], 'batch');
      const backends = (list(flags, 'backend') as BackendName[] | undefined) ?? ['wasm'];
      for (const b of backends) {
        if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`unknown backend "${b}"`, `use one of: ${BACKEND_NAMES.join(', ')}`);
      }
      if (!booleanFlag(flags, 'no-train')) readConfigSpec(stringFlag(flags, 'train-config'));
      const profiles: KernelProfile[] = [];
      for (const backend of backends) {
        log(`profiling on ${backend} ...`);
        const args = ['--child-profile', '--backend', backend, '--preset', presets.join(','), '--batch', batches.join(','), ...passThrough];
        if (booleanFlag(flags, 'no-train')) args.push('--no-train');
        if (stringFlag(flags, 'wasm-matmul') !== undefined) args.push('--wasm-matmul', stringFlag(flags, 'wasm-matmul')!);
        profiles.push(...runChild<{ profiles: KernelProfile[] }>(args, json).profiles);
      }
      console.log(json ? JSON.stringify({ profiles }) : profiles.map((p) => profileTable(p, top)).join('\n\n'));
      return 0;
    }

    if (booleanFlag(flags, 'compare-torch')) {
      const threads = numberFlag(flags, 'threads', { integer: true, min: 1 }) ?? 2;
      // Steady state: V8 runs wasm code on a baseline tier until it is hot, so the first ~10 steps are slower.
      const steps = numberFlag(flags, 'runs', { integer: true, min: 1 }) ?? 20;
      const warmup = numberFlag(flags, 'warmup', { integer: true, min: 0 }) ?? 10;
      const rounds = numberFlag(flags, 'rounds', { integer: true, min: 1 }) ?? 3;
      const config = stringFlag(flags, 'train-config');
      readConfigSpec(config);
      const torchConfig = config === undefined || !config.endsWith('.json') ? undefined : config;
      if (config !== undefined && torchConfig === undefined) throw new UsageError('--compare-torch takes a config.json as --train-config, not a preset');
      const vitkit: BenchResult[] = [];
      const torch: ReturnType<typeof measureTorchTraining>[] = [];
      const loadBefore = loadavg()[0]!;
      for (let r = 0; r < rounds; r++) {
        log(`round ${r + 1}/${rounds}: vitkit (wasm, ${threads} threads) ...`);
        vitkit.push(runChild<BenchResult>(['--child-train', '--backend', 'wasm', '--threads', String(threads), '--runs', String(steps), '--warmup', String(warmup), ...(config === undefined ? [] : ['--train-config', config])], true));
        log(`round ${r + 1}/${rounds}: PyTorch (CPU, ${threads} threads) ...`);
        torch.push(measureTorchTraining({ threads, steps, warmup: Math.max(1, warmup), ...(torchConfig === undefined ? {} : { config: torchConfig }) }));
      }
      const v = median(vitkit.map((r) => r.img_per_s));
      const t = median(torch.map((r) => r.img_per_s));
      const comparison: TorchComparison = {
        model: vitkit[0]!.preset,
        threads,
        batch: vitkit[0]!.batch,
        vitkit_img_per_s: vitkit.map((r) => r.img_per_s),
        pytorch_img_per_s: torch.map((r) => r.img_per_s),
        vitkit_median: v,
        pytorch_median: t,
        ratio: round(v / t, 3),
        torch: torch[0]!.torch,
        blas: torch[0]!.blas ?? 'unknown',
        load_before: round(loadBefore, 2),
        load_after: round(loadavg()[0]!, 2),
      };
      if (json) console.log(JSON.stringify({ torch: comparison }));
      else {
        if (comparison.blas.startsWith('reference')) log('PyTorch runs on the reference BLAS here (~4x slower than OpenBLAS): apt-get install libopenblas0-pthread for a fair anchor');
        const head = ['model', 'threads', 'batch', 'vitkit wasm img/s', `PyTorch ${comparison.torch} (${comparison.blas}) img/s`, 'ratio', 'load'];
        const row = [comparison.model, String(threads), String(comparison.batch), `${v.toFixed(1)} (${comparison.vitkit_img_per_s.map((x) => x.toFixed(0)).join(', ')})`, `${t.toFixed(1)} (${comparison.pytorch_img_per_s.map((x) => x.toFixed(0)).join(', ')})`, `${comparison.ratio.toFixed(2)}x`, `${comparison.load_before.toFixed(2)} -> ${comparison.load_after.toFixed(2)}`];
        console.log(table(head, [row], 1));
      }
      return 0;
    }

    if (booleanFlag(flags, 'compare-onnx')) {
      if (stringFlag(flags, 'backend') !== undefined && stringFlag(flags, 'backend') !== 'wasm') {
        throw new UsageError('--compare-onnx measures vitkit on the wasm backend only', 'drop --backend');
      }
      const presets = checkedPresets(list(flags, 'preset') ?? DEFAULT_ONNX_PRESETS);
      const batches = positiveInts(list(flags, 'batch') ?? DEFAULT_ONNX_BATCHES.map(String), 'batch');
      const comparisons: OnnxComparison[] = [];
      for (const preset of presets) {
        for (const batch of batches) {
          log(`${preset}, batch ${batch}: vitkit (wasm) vs onnxruntime-node ...`);
          comparisons.push(runChild<OnnxComparison>(['--child-onnx', '--preset', preset, '--batch', String(batch), ...passThrough], json));
        }
      }
      console.log(json ? JSON.stringify({ comparisons }) : comparisonTable(comparisons));
      return 0;
    }

    const presets = checkedPresets(list(flags, 'preset') ?? DEFAULT_PRESETS);
    const batches = positiveInts(list(flags, 'batch') ?? DEFAULT_BATCHES.map(String), 'batch');
    const backends = (list(flags, 'backend') as BackendName[] | undefined) ?? (await defaultBackends());
    for (const b of backends) {
      if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`unknown backend "${b}"`, `use one of: ${BACKEND_NAMES.join(', ')}`);
    }
    const matmuls = (list(flags, 'wasm-matmul') ?? ['simd']) as WasmMatMul[];
    for (const m of matmuls) {
      if (!WASM_MATMULS.includes(m)) throw new UsageError(`unknown --wasm-matmul "${m}"`, `use ${WASM_MATMULS.join(', ')} or both, comma-separated`);
    }
    // Each backend once; wasm once per BatchMatMul kernel asked for.
    const variants = backends.flatMap((backend): { backend: BackendName; args: string[]; label: string }[] =>
      backend === 'wasm' ? matmuls.map((m) => ({ backend, args: ['--wasm-matmul', m], label: backendLabel(backend, m) })) : [{ backend, args: [], label: backend }],
    );
    // A bad --train-config fails here with its own message, not as a child's failure.
    if (!booleanFlag(flags, 'no-train')) readConfigSpec(stringFlag(flags, 'train-config'));
    const results: BenchResult[] = [];
    for (const v of variants) {
      for (const preset of presets) {
        for (const batch of batches) {
          log(`${preset} on ${v.label}, batch ${batch} ...`);
          results.push(runChild<BenchResult>(['--child', '--preset', preset, '--backend', v.backend, '--batch', String(batch), ...v.args, ...passThrough], true));
        }
      }
    }
    if (!booleanFlag(flags, 'no-train')) {
      for (const v of variants) {
        log(`training throughput of the trainer's default model on ${v.label} ...`);
        results.push(runChild<BenchResult>(['--child-train', '--backend', v.backend, ...v.args, ...passThrough], true));
      }
    }
    console.log(json ? JSON.stringify({ results }) : resultsTable(results));
    return 0;
  },
};
