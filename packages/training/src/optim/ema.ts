import * as tf from '@tensorflow/tfjs-core';
import { TrainingConfigError } from '../errors.js';

/**
 * The decay used after optimizer step `t` (1-based): `decay`, lowered early
 * in the run as tf.train.ExponentialMovingAverage does with `num_updates`,
 * min(decay, (1 + t) / (10 + t)). Without the ramp a decay of 0.999 would
 * keep most of the random initialization for thousands of steps, so a short
 * run's average would be worse than its last weights.
 */
export function emaDecayAt(decay: number, t: number): number {
  return Math.min(decay, (1 + t) / (10 + t));
}

/** Throws unless `decay` is a usable EMA decay, in [0, 1). */
export function validateEmaDecay(decay: number): void {
  if (!(decay >= 0 && decay < 1)) throw new TrainingConfigError(`EMA decay must be in [0, 1), got ${decay}`, 'typical values are 0.999 to 0.9999; 0 turns the average off');
}

/**
 * An exponential moving average of a model's parameters (timm's ModelEma,
 * Polyak averaging): after every optimizer step each average moves toward
 * its parameter, ema <- d * ema + (1 - d) * p, with d from emaDecayAt.
 *
 * The averages live in non-trainable variables (the model's internal
 * layouts, by parameter name) updated in place, so training allocates no
 * new long-lived tensors. `swapIn` puts them into the model (for evaluation
 * or for saving them as a state dict) and gives the training weights back
 * afterwards.
 */
export class WeightEma {
  readonly decay: number;
  private readonly params: Map<string, tf.Variable>;
  private readonly averages = new Map<string, tf.Variable>();
  private disposed = false;

  /** Starts every average at the parameter's current value. */
  constructor(params: ReadonlyMap<string, tf.Variable>, decay: number) {
    validateEmaDecay(decay);
    this.decay = decay;
    this.params = new Map(params);
    for (const [name, p] of this.params) {
      const copy = p.clone();
      this.averages.set(name, tf.variable(copy, false)); // the variable shares the copy's data, so the copy can go
      copy.dispose();
    }
  }

  /** Names of the averaged parameters, in order. */
  get names(): string[] {
    return [...this.params.keys()];
  }

  /** Moves the averages toward the parameters after optimizer step `t` (1-based). */
  update(t: number): void {
    this.check();
    const d = emaDecayAt(this.decay, t);
    for (const [name, p] of this.params) {
      const a = this.averages.get(name)!;
      tf.tidy(() => {
        a.assign(tf.add(tf.mul(a, d), tf.mul(p, 1 - d)));
      });
    }
  }

  /** Runs `fn` with the averages in the model's parameters, then restores the training weights (also when `fn` throws). */
  swapIn<T>(fn: () => T): T {
    this.check();
    const saved = new Map<string, tf.Tensor>();
    try {
      for (const [name, p] of this.params) {
        saved.set(name, p.clone());
        p.assign(this.averages.get(name)!);
      }
      return fn();
    } finally {
      for (const [name, t] of saved) {
        this.params.get(name)!.assign(t);
        t.dispose();
      }
    }
  }

  /** Copies of the averages by parameter name (the caller disposes them). */
  getState(): Map<string, tf.Tensor> {
    this.check();
    return new Map([...this.averages].map(([name, a]) => [name, a.clone()]));
  }

  /** Restores averages saved by getState(). Does not take ownership of the tensors. */
  setState(state: ReadonlyMap<string, tf.Tensor>): void {
    this.check();
    for (const [name, p] of this.params) {
      const t = state.get(name);
      if (!t) throw new TrainingConfigError(`EMA state has no average for ${name}`, 'resume with the same model and settings');
      if (t.shape.join(',') !== p.shape.join(',')) {
        throw new TrainingConfigError(`EMA state for ${name} has shape [${t.shape.join(', ')}], expected [${p.shape.join(', ')}]`, 'resume with the same model and settings');
      }
    }
    for (const [name, a] of this.averages) tf.tidy(() => a.assign(tf.cast(state.get(name)!, 'float32')));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.averages.values()) a.dispose();
  }

  private check(): void {
    if (this.disposed) throw new TrainingConfigError('this WeightEma was disposed');
  }
}
