// Benchmark: readSafetensorsFile vs a plain fs.readFile of the same ~350 MB
// ViT-B/16 checkpoint. Each measurement runs in a fresh Node process so that
// peak RSS belongs to that reader alone. Not part of the tests:
//   pnpm --filter @vitkit/weights bench
import { spawnSync } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig } from '@vitkit/core';
import { numel, readSafetensorsFile, timmShapes, writeSafetensorsFile, type RawTensors } from '../src/index.js';

type Reader = 'fs.readFile' | 'readSafetensorsFile';

interface Measurement {
  ms: number;
  peakRssMB: number;
  baselineRssMB: number;
  tensors: number;
}

/** Child mode: read the file once with one reader and print the measurement as JSON. */
async function measure(reader: Reader, path: string): Promise<void> {
  const baselineRssMB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let tensors = 0;
  if (reader === 'fs.readFile') {
    const bytes = await readFile(path);
    tensors = bytes.length > 0 ? 1 : 0;
  } else {
    tensors = (await readSafetensorsFile(path)).tensors.size;
  }
  const ms = performance.now() - t0;
  // maxRSS is in kilobytes.
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const m: Measurement = { ms, peakRssMB, baselineRssMB, tensors };
  console.log(JSON.stringify(m));
}

/** A ViT-B/16 (86M parameters) timm checkpoint with cheap, non-constant values. */
async function makeCheckpoint(path: string): Promise<void> {
  const tensors: RawTensors = new Map();
  let seed = 1;
  for (const [name, shape] of timmShapes(presetConfig('vit_base_patch16_224'))) {
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      data[i] = (seed / 2 ** 32 - 0.5) * 0.04;
    }
    tensors.set(name, { shape, data });
  }
  await writeSafetensorsFile(path, tensors);
}

function runChild(reader: Reader, path: string): Measurement {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--conditions=@vitkit/source', '--import', 'tsx', self, '--measure', reader, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measurement of ${reader} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--measure') return measure(args[1] as Reader, args[2]!);
  const path = join(tmpdir(), `vitkit-bench-vit-b16-${process.pid}.safetensors`);
  try {
    console.log('writing a ViT-B/16-sized checkpoint ...');
    await makeCheckpoint(path);
    const sizeMB = (await stat(path)).size / 2 ** 20;
    console.log(`file: ${path} (${sizeMB.toFixed(1)} MiB)`);
    const runs = 3;
    const results = new Map<Reader, Measurement[]>();
    for (let i = 0; i < runs; i++) {
      for (const reader of ['fs.readFile', 'readSafetensorsFile'] as const) {
        results.set(reader, [...(results.get(reader) ?? []), runChild(reader, path)]);
      }
    }
    const summary = new Map<Reader, { ms: number; peak: number; extra: number }>();
    for (const [reader, ms] of results) {
      const peak = median(ms.map((m) => m.peakRssMB));
      const extra = median(ms.map((m) => m.peakRssMB - m.baselineRssMB));
      summary.set(reader, { ms: median(ms.map((m) => m.ms)), peak, extra });
      console.log(
        `${reader.padEnd(20)} time ${median(ms.map((m) => m.ms)).toFixed(0).padStart(6)} ms (median of ${runs})` +
          `   peak RSS ${peak.toFixed(0)} MiB (${extra.toFixed(0)} MiB above the process baseline, ${(extra / sizeMB).toFixed(2)}x the file)`,
      );
    }
    const base = summary.get('fs.readFile')!;
    const ours = summary.get('readSafetensorsFile')!;
    const ratio = ours.ms / base.ms;
    console.log(`time ratio readSafetensorsFile / fs.readFile: ${ratio.toFixed(2)}x (goal <= 1.5x)`);
    console.log(`peak memory above baseline: ${(ours.extra / sizeMB).toFixed(2)}x the file size (goal < 2x)`);
  } finally {
    await rm(path, { force: true });
  }
}

await main();
