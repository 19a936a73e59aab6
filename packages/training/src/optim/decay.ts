import type { Parameter } from '@vitkit/core';
import type { OptimizedParameter } from './adamw.js';

/**
 * Which parameters get weight decay: `matrices` follows the module's own
 * `decay` flags (timm's convention: no decay on norms, biases, class/register
 * tokens and position embeddings), `all` decays everything (what
 * torch.optim.AdamW does when given model.parameters()).
 */
export type WeightDecayOn = 'matrices' | 'all';

/**
 * The optimizer's view of `params`. `lrScales` (by name, e.g. from
 * layerDecayScales) sets each parameter's learning-rate multiplier.
 */
export function optimizedParameters(
  params: ReadonlyMap<string, Parameter>,
  on: WeightDecayOn = 'matrices',
  lrScales?: ReadonlyMap<string, number>,
): Map<string, OptimizedParameter> {
  const out = new Map<string, OptimizedParameter>();
  for (const [name, p] of params) {
    const lrScale = lrScales?.get(name);
    out.set(name, { variable: p.variable, decay: on === 'all' ? true : p.decay, ...(lrScale !== undefined ? { lrScale } : {}) });
  }
  return out;
}
