import * as tf from '@tensorflow/tfjs-core';
import { TrainingConfigError } from '../errors.js';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay coefficient (torch.optim.AdamW's `weight_decay`, default 0.01). */
  weightDecay?: number;
}

/** One parameter the optimizer updates. */
export interface OptimizedParameter {
  variable: tf.Variable;
  /** Whether decoupled weight decay applies to it. */
  decay: boolean;
  /**
   * Multiplies the learning rate for this parameter, decay included (timm's
   * param-group `lr_scale`, e.g. from layer-wise decay). Default 1.
   */
  lrScale?: number;
}

/** The optimizer's moments, by parameter name, plus the step count. */
export interface AdamWState {
  step: number;
  expAvg: Map<string, tf.Tensor>;
  expAvgSq: Map<string, tf.Tensor>;
}

function checkRange(name: string, v: number, lo: number, hi: number, loOpen = false): void {
  const ok = (loOpen ? v > lo : v >= lo) && v < hi && Number.isFinite(v);
  if (!ok) throw new TrainingConfigError(`AdamW ${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}), got ${v}`);
}

/** A non-trainable variable of zeros shaped like `like` (the variable shares the zeros' data, so they can be freed). */
function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

/**
 * AdamW exactly as torch.optim.AdamW (amsgrad off, maximize off) computes it,
 * per parameter p with gradient g at step t:
 *
 *   p <- p * (1 - lr * wd)            (decoupled decay, only where `decay`)
 *   m <- b1 m + (1 - b1) g
 *   v <- b2 v + (1 - b2) g^2
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * The moments live in tf.Variables that are updated in place, so a training
 * loop allocates no new long-lived tensors per step.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  weightDecay: number;
  /** The learning rate used by the next `step()` unless one is passed. */
  lr: number;
  private readonly params: Map<string, OptimizedParameter>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;
  private disposed = false;

  constructor(params: ReadonlyMap<string, OptimizedParameter>, options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    checkRange('lr', this.lr, 0, Infinity);
    checkRange('beta1', this.beta1, 0, 1);
    checkRange('beta2', this.beta2, 0, 1);
    checkRange('eps', this.eps, 0, Infinity, true);
    checkRange('weightDecay', this.weightDecay, 0, Infinity);
    this.params = new Map(params);
    for (const [name, p] of this.params) {
      if (p.lrScale !== undefined && !(p.lrScale >= 0 && Number.isFinite(p.lrScale))) throw new TrainingConfigError(`AdamW lrScale of ${name} must be a finite number >= 0, got ${p.lrScale}`);
      this.m.set(name, zerosVariable(p.variable));
      this.v.set(name, zerosVariable(p.variable));
    }
  }

  /** Optimizer steps taken so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Names of the parameters this optimizer updates, in order. */
  get parameterNames(): string[] {
    return [...this.params.keys()];
  }

  /**
   * Applies one update from `grads` (by parameter name). Parameters without
   * a gradient are left alone, decay included, as torch skips parameters
   * whose `.grad` is None. Does not dispose the gradients.
   */
  step(grads: Readonly<Record<string, tf.Tensor>>, lr = this.lr): void {
    if (this.disposed) throw new TrainingConfigError('this AdamW optimizer was disposed');
    checkRange('lr', lr, 0, Infinity);
    for (const [name, g] of Object.entries(grads)) {
      const p = this.params.get(name);
      if (!p) throw new TrainingConfigError(`gradient for unknown parameter ${name}`, 'pass gradients keyed by the names the optimizer was built with');
      if (g.shape.join(',') !== p.variable.shape.join(',')) {
        throw new TrainingConfigError(`gradient for ${name} has shape [${g.shape.join(', ')}], expected [${p.variable.shape.join(', ')}]`);
      }
    }
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.t);
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) continue;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const plr = lr * (p.lrScale ?? 1);
      const stepSize = plr / bc1;
      tf.tidy(() => {
        const decayed = p.decay && this.weightDecay > 0 ? tf.mul(p.variable, 1 - plr * this.weightDecay) : p.variable;
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
        const pNew = tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize));
        m.assign(mNew);
        v.assign(vNew);
        p.variable.assign(pNew);
      });
    }
  }

  /** Copies of the moments (caller disposes) and the step count, for checkpoints. */
  getState(): AdamWState {
    const expAvg = new Map<string, tf.Tensor>();
    const expAvgSq = new Map<string, tf.Tensor>();
    for (const name of this.params.keys()) {
      expAvg.set(name, this.m.get(name)!.clone());
      expAvgSq.set(name, this.v.get(name)!.clone());
    }
    return { step: this.t, expAvg, expAvgSq };
  }

  /** Restores moments and step count saved by getState(). Does not take ownership of the tensors. */
  setState(state: AdamWState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new TrainingConfigError(`AdamW state step must be an integer >= 0, got ${state.step}`);
    for (const [name, p] of this.params) {
      for (const [what, map] of [['expAvg', state.expAvg], ['expAvgSq', state.expAvgSq]] as const) {
        const t = map.get(name);
        if (!t) throw new TrainingConfigError(`optimizer state has no ${what} for ${name}`, 'resume with the same model and settings');
        if (t.shape.join(',') !== p.variable.shape.join(',')) {
          throw new TrainingConfigError(
            `optimizer state ${what} for ${name} has shape [${t.shape.join(', ')}], expected [${p.variable.shape.join(', ')}]`,
            'resume with the same model and settings',
          );
        }
      }
    }
    for (const name of this.params.keys()) {
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.cast(state.expAvg.get(name)!, 'float32'));
        this.v.get(name)!.assign(tf.cast(state.expAvgSq.get(name)!, 'float32'));
      });
    }
    this.t = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
