import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, kernelRegistered, type AdamWKernelAttrs } from '@vitkit/core';
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
   * Multiplies the learning rate for this parameter (default 1), e.g. for
   * layer-wise lr decay: its step uses lr * lrScale everywhere torch's
   * param-group lr appears (the decay factor 1 - lr wd and the step size).
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

/** One parameter's part of a step. */
interface Update {
  p: OptimizedParameter;
  g: tf.Tensor;
  m: tf.Variable;
  v: tf.Variable;
  /** lr with the parameter's lrScale applied. */
  lr: number;
  /** Weight decay coefficient, 0 where the parameter has none. */
  wd: number;
}

/**
 * At most this many elements per launch of the multi-tensor kernel: the
 * launch allocates new parameters and moments before the old ones are
 * freed, so chunks bound that transient memory (3 x 16 MB) for big models.
 */
const MAX_ELEMENTS_PER_LAUNCH = 1 << 22;

function chunks(updates: Update[]): Update[][] {
  const out: Update[][] = [];
  let current: Update[] = [];
  let size = 0;
  for (const u of updates) {
    if (current.length > 0 && size + u.g.size > MAX_ELEMENTS_PER_LAUNCH) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(u);
    size += u.g.size;
  }
  if (current.length > 0) out.push(current);
  return out;
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
 * The moments live in tf.Variables that are reassigned each step, so a
 * training loop allocates no new long-lived tensors per step. Where the
 * active backend registers vitkit's multi-tensor kernel (wasm, cpu: see
 * @vitkit/core's installFusedKernels) one launch updates every parameter,
 * following torch 1.13's op order and float32 rounding; elsewhere the
 * per-tensor tfjs ops do the same in the same order.
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
    for (const [name, p] of this.params) checkRange(`lrScale of ${name}`, p.lrScale ?? 1, 0, Infinity);
    for (const [name, p] of this.params) {
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
    const updates: Update[] = [];
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) continue;
      updates.push({ p, g, m: this.m.get(name)!, v: this.v.get(name)!, lr: lr * (p.lrScale ?? 1), wd: p.decay ? this.weightDecay : 0 });
    }
    if (kernelRegistered(ADAMW_KERNEL) && updates.every((u) => u.p.variable.dtype === 'float32' && u.g.dtype === 'float32')) {
      for (const chunk of chunks(updates)) this.fusedStep(chunk);
    } else {
      for (const u of updates) this.compositeStep(u);
    }
  }

  /** One launch of the multi-tensor kernel for `updates` (the kernel's doc gives the per-element order). */
  private fusedStep(updates: Update[]): void {
    const inputs: tf.NamedTensorMap = {};
    updates.forEach((u, i) => {
      inputs[`param${i}`] = u.p.variable;
      inputs[`grad${i}`] = u.g;
      inputs[`expAvg${i}`] = u.m;
      inputs[`expAvgSq${i}`] = u.v;
    });
    const attrs: AdamWKernelAttrs = {
      step: this.t,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      lrs: updates.map((u) => u.lr),
      weightDecays: updates.map((u) => u.wd),
    };
    const out = tf.engine().runKernel(ADAMW_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    updates.forEach((u, i) => {
      u.p.variable.assign(out[3 * i]!);
      u.m.assign(out[3 * i + 1]!);
      u.v.assign(out[3 * i + 2]!);
    });
    tf.dispose(out);
  }

  /**
   * The same update with per-tensor tfjs ops, in torch's order (backends
   * without the kernel). tfjs has no fused multiply-add, so exp_avg's update
   * rounds its product once more than torch's (1 ulp at most).
   */
  private compositeStep({ p, g, m, v, lr, wd }: Update): void {
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.t);
    tf.tidy(() => {
      const decayed = wd > 0 ? tf.mul(p.variable, 1 - lr * wd) : p.variable;
      const mNew = tf.add(tf.mul(g, 1 - this.beta1), tf.mul(m, this.beta1));
      const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, 1 - this.beta2), g));
      const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
      const pNew = tf.add(decayed, tf.div(tf.mul(mNew, -lr / bc1), denom));
      m.assign(mNew);
      v.assign(vNew);
      p.variable.assign(pNew);
    });
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
