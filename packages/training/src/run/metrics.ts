import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

/** One line of metrics.jsonl: a logged training step, an epoch summary, or the final test result. */
export type MetricsRecord =
  | { type: 'step'; step: number; epoch: number; loss: number; lr: number; grad_norm: number; img_per_s?: number; time_s?: number }
  | { type: 'epoch'; step: number; epoch: number; accuracy: number; val_loss: number; train_loss: number; time_s?: number }
  | { type: 'test'; step: number; accuracy: number; loss: number; count: number };

/**
 * metrics.jsonl: one JSON object per line. Each record is appended with a
 * single write of a whole line, so a crash can at worst cut the last line;
 * `repairMetrics` (run on resume) drops such a line and everything logged
 * after the checkpoint, and rewrites the file atomically.
 */
export class MetricsLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  read(): MetricsRecord[] {
    return readMetrics(this.path);
  }

  /** Keeps the records up to and including `step` (training steps and epochs; test results are dropped). */
  truncateAfter(step: number): void {
    const kept = this.read().filter((r) => r.type !== 'test' && r.step <= step);
    writeFileAtomic(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
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
