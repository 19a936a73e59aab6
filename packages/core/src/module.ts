import * as tf from '@tensorflow/tfjs-core';
import { VitkitError } from './errors.js';
import { fromTorchLayout, toTorchLayout, type ParamLayout } from './layout.js';

/** One learnable tensor of a module, with how PyTorch stores it. */
export interface Parameter {
  variable: tf.Variable;
  layout: ParamLayout;
  /** Shape in PyTorch layout (what checkpoints hold). */
  torchShape: number[];
  /** False for parameters that weight decay should skip (norms, biases, tokens, position embeddings). */
  decay: boolean;
}

/** A map from canonical (timm) names to tensors in PyTorch layout. */
export type StateDict = Map<string, tf.Tensor>;

export interface LoadStateDictOptions {
  /** Throw on missing and unexpected keys (default true). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

/** Thrown by loadStateDict when keys or shapes do not match the module. */
export class StateDictError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_STATE_DICT', reason, hint);
  }
}

/** Thrown when a module would hold two parameters (or two children) under the same name. */
export class DuplicateNameError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_DUPLICATE_NAME', reason, hint);
  }
}

/** A registered child and the prefix its parameter names get ('' for none). */
interface Child {
  prefix: string;
  module: Module;
}

/**
 * The contract every vitkit module implements. Parameters are named as timm
 * names them (`blocks.3.attn.qkv.weight`), relative to the module. Modules
 * start in eval mode; `train()` switches dropout and stochastic depth on.
 *
 * Children are kept in registration order; several may sit at the root ('' prefix), as long as
 * no two parameters end up with the same full name. Parameter order is own parameters first,
 * then each child's in registration order.
 */
export abstract class Module {
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children: Child[] = [];
  private trainingMode = false;
  private disposed = false;

  get training(): boolean {
    return this.trainingMode;
  }

  /** Switches this module and its children to training (true) or eval (false) mode. */
  train(mode = true): this {
    this.trainingMode = mode;
    for (const { module } of this.children) module.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Registers a learnable tensor (already in internal layout). The module
   * takes ownership of `value`.
   */
  protected addParameter(
    name: string,
    value: tf.Tensor,
    options: { layout?: ParamLayout; torchShape?: number[]; decay?: boolean } = {},
  ): tf.Variable {
    this.assertNewNames([name], `parameter ${name}`);
    const variable = tf.variable(value, true, undefined, 'float32');
    value.dispose();
    const layout = options.layout ?? 'plain';
    const torchShape =
      options.torchShape ?? (layout === 'linear' ? [variable.shape[1]!, variable.shape[0]!] : [...variable.shape]);
    this.ownParams.set(name, { variable, layout, torchShape, decay: options.decay ?? layout !== 'plain' });
    return variable;
  }

  /**
   * Registers a child; its parameters appear under `prefix.` (or at the top when prefix is '').
   * Several children may share the '' prefix; a named prefix is used once. Throws a
   * DuplicateNameError when one of the child's parameter names is already taken.
   */
  protected addModule<M extends Module>(prefix: string, child: M): M {
    if (prefix !== '' && this.children.some((c) => c.prefix === prefix)) {
      throw new DuplicateNameError(`child module ${prefix} registered twice`, 'give each child its own prefix');
    }
    if (this.children.some((c) => c.module === child)) {
      throw new DuplicateNameError(`module registered twice as a child (prefix '${prefix}')`, 'register each child module once');
    }
    this.assertNewNames(
      [...child.namedParameters().keys()].map((name) => qualify(prefix, name)),
      prefix ? `child module ${prefix}` : 'root-level child module',
    );
    this.children.push({ prefix, module: child });
    child.train(this.trainingMode);
    return child;
  }

  /** Throws a DuplicateNameError when any of `names` is already a full parameter name here. */
  private assertNewNames(names: readonly string[], what: string): void {
    const taken = this.namedParameters();
    const clash = names.find((n) => taken.has(n));
    if (clash !== undefined) {
      throw new DuplicateNameError(`cannot add ${what}: a parameter named ${clash} is already registered`, 'give each parameter and child a distinct name');
    }
  }

  /**
   * All parameters of this module and its children, by canonical name, in registration order
   * (own parameters, then each child's). Throws a DuplicateNameError if two share a name.
   */
  namedParameters(): Map<string, Parameter> {
    const out = new Map<string, Parameter>(this.ownParams);
    for (const { prefix, module } of this.children) {
      for (const [name, p] of module.namedParameters()) {
        const full = qualify(prefix, name);
        if (out.has(full)) throw new DuplicateNameError(`two parameters are named ${full}`, 'give each parameter and child a distinct name');
        out.set(full, p);
      }
    }
    return out;
  }

  /** The trainable variables, by canonical name. */
  variables(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters()].map(([k, p]) => [k, p.variable]));
  }

  numParameters(): number {
    let n = 0;
    for (const p of this.namedParameters().values()) n += p.variable.size;
    return n;
  }

  /** A copy of every parameter in PyTorch layout under its timm name. The caller disposes the tensors. */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [name, p] of this.namedParameters()) out.set(name, toTorchLayout(p.layout, p.variable, p.torchShape));
    return out;
  }

  /**
   * Assigns parameters from PyTorch-layout tensors keyed by timm names. Does
   * not take ownership of the given tensors. Shapes must match exactly.
   */
  loadStateDict(state: ReadonlyMap<string, tf.Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const params = this.namedParameters();
    const missing = [...params.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !params.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing ${missing.length} (${preview(missing)})`);
      if (unexpected.length) parts.push(`unexpected ${unexpected.length} (${preview(unexpected)})`);
      throw new StateDictError(
        `weights do not match the model: ${parts.join('; ')}`,
        'check that the config matches the checkpoint, or load with strict: false',
      );
    }
    for (const [name, p] of params) {
      const t = state.get(name);
      if (!t) continue;
      if (!sameShape(t.shape, p.torchShape)) {
        throw new StateDictError(
          `shape mismatch for ${name}: expected [${p.torchShape.join(', ')}], got [${t.shape.join(', ')}]`,
          'check that the config matches the checkpoint',
        );
      }
    }
    for (const [name, p] of params) {
      const t = state.get(name);
      if (!t) continue;
      // fromTorchLayout already copies; cast only when the checkpoint tensor is not float32.
      const internal = tf.tidy(() => fromTorchLayout(p.layout, t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
      p.variable.assign(internal);
      internal.dispose();
    }
    return { missing, unexpected };
  }

  /** Frees every parameter. The module cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.ownParams.values()) p.variable.dispose();
    for (const { module } of this.children) module.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}

function qualify(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function preview(keys: string[]): string {
  return keys.length <= 6 ? keys.join(', ') : `${keys.slice(0, 6).join(', ')}, ...`;
}
