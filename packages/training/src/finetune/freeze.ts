import { TrainingConfigError } from '../errors.js';

/**
 * Which parts of a ViT stay fixed while fine-tuning:
 * - `'none'`: everything trains (full fine-tuning);
 * - `'backbone'`: a linear probe, only the classifier (`head`, and `head_dist`
 *   for distilled models) trains on the model's own pre-logits features;
 * - `{ blocks: K }`: the last K encoder blocks, the final norm (and pooling) and
 *   the classifier train; the embeddings and the first blocks stay fixed.
 *
 * Frozen parts run in eval mode (no dropout or stochastic depth) and outside
 * the gradient tape: no backward work is done for them.
 */
export type FreezeMode = 'none' | 'backbone' | { blocks: number };

/** Parses `none`, `backbone` or `blocks:K` (the CLI's --freeze values). */
export function parseFreeze(spec: string): FreezeMode {
  if (spec === 'none' || spec === 'backbone') return spec;
  const m = /^blocks:(\d+)$/.exec(spec);
  if (!m) throw new TrainingConfigError(`freeze must be none, backbone or blocks:K, got '${spec}'`, 'e.g. --freeze blocks:2 trains the last 2 blocks and the head');
  return { blocks: Number(m[1]) };
}

/** The string form parseFreeze reads (as saved in checkpoints and printed). */
export function formatFreeze(mode: FreezeMode): string {
  return typeof mode === 'string' ? mode : `blocks:${mode.blocks}`;
}

/** Throws a TrainingConfigError unless `mode` fits a model with `depth` blocks. */
export function validateFreeze(mode: FreezeMode, depth: number): void {
  if (typeof mode === 'string') {
    if (mode !== 'none' && mode !== 'backbone') throw new TrainingConfigError(`freeze must be 'none', 'backbone' or { blocks: K }, got '${String(mode)}'`);
    return;
  }
  const k = mode.blocks;
  if (!Number.isInteger(k) || k < 0 || k > depth) {
    throw new TrainingConfigError(`freeze blocks:${k} is out of range for a model with ${depth} blocks`, `use blocks:K with 0 <= K <= ${depth}`);
  }
}
