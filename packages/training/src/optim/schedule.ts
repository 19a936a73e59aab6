import { TrainingConfigError } from '../errors.js';

export type ScheduleKind = 'cosine' | 'constant';

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Optimizer steps in the whole run (cosine decays to `minLr` at this step). */
  totalSteps: number;
  /** Steps of linear warmup from lr/warmup to lr (0 for none). */
  warmupSteps?: number;
  /** Floor of the cosine decay (default 0). */
  minLr?: number;
}

/**
 * The learning rate of optimizer step `step` (1-based): linear warmup over
 * `warmupSteps` (step 1 gets lr/warmup, step `warmupSteps` gets lr), then
 * constant or half-cosine decay from lr to minLr at `totalSteps`.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  const warmup = o.warmupSteps ?? 0;
  const minLr = o.minLr ?? 0;
  if (step <= warmup) return (o.lr * step) / warmup;
  if (o.kind === 'constant') return o.lr;
  const span = Math.max(1, o.totalSteps - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return minLr + (o.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Checks a schedule's settings; throws a TrainingConfigError naming the bad one. */
export function validateSchedule(o: ScheduleOptions): void {
  if (o.kind !== 'cosine' && o.kind !== 'constant') {
    throw new TrainingConfigError(`unknown schedule "${String(o.kind)}"`, 'use cosine or constant');
  }
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new TrainingConfigError(`learning rate must be > 0, got ${o.lr}`);
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) throw new TrainingConfigError(`total steps must be a positive integer, got ${o.totalSteps}`);
  const w = o.warmupSteps ?? 0;
  if (!Number.isInteger(w) || w < 0) throw new TrainingConfigError(`warmup steps must be an integer >= 0, got ${w}`);
  const minLr = o.minLr ?? 0;
  if (!(minLr >= 0 && minLr <= o.lr)) throw new TrainingConfigError(`minimum learning rate must be in [0, lr], got ${minLr}`);
}
