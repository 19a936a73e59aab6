import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

/** One line of metrics.jsonl: a logged training step, an epoch summary, or the final test result. */
export type MetricsRecord =
  | { type: 'step'; step: number; epoch: number; loss: number; lr: number; grad_norm: number; img_per_s?: number; time_s?: number }
  | {
      type: 'epoch';
      step: number;
      epoch: number;
      accuracy: number;
      val_loss: number;
      train_loss: number;
      /** Training images per second over the epoch's steps (validation excluded). */
      img_per_s?: number;
      time_s?: number;
      /** Validation accuracy and loss of the weight average (runs with an EMA). */
      ema_accuracy?: number;
      ema_val_loss?: number;
    }
  | {
      type: 'test';
      step: number;
      accuracy: number;
      loss: number;
      count: number;
      ema_accuracy?: number;
      ema_loss?: number;
      /** With a test-time augmentation (vit train --tta): which one, and the results with it. */
      tta?: string;
      tta_accuracy?: number;
      tta_loss?: number;
      ema_tta_accuracy?: number;
      ema_tta_loss?: number;
    };

/**
 * metrics.jsonl: one JSON object per line. Every append rewrites the file
 * through a temp file and a rename, like every other file of a run, so a
 * crash leaves the previous version whole, never a cut line. The file is a
 * few hundred bytes per logged step, so rewriting it stays cheap.
 */
export class MetricsLog {
  readonly path: string;
  private text: string | undefined;

  constructor(path: string) {
    this.path = path;
  }

  append(record: MetricsRecord): void {
    this.text ??= existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    this.text += `${JSON.stringify(record)}\n`;
    writeFileAtomic(this.path, this.text);
  }

  read(): MetricsRecord[] {
    return readMetrics(this.path);
  }

  /** Keeps the records up to and including `step` (training steps and epochs; test results are dropped). */
  truncateAfter(step: number): void {
    const kept = this.read().filter((r) => r.type !== 'test' && r.step <= step);
    this.text = kept.map((r) => `${JSON.stringify(r)}\n`).join('');
    writeFileAtomic(this.path, this.text);
  }
}

/** Parses metrics.jsonl, skipping lines that are not complete JSON objects. */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as MetricsRecord;
      if (r && typeof r === 'object' && typeof r.step === 'number') out.push(r);
    } catch {
      // A line cut short by a crash.
    }
  }
  return out;
}
