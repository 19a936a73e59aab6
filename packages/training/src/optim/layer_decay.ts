import { TrainingConfigError } from '../errors.js';

/** timm VisionTransformer(Distilled).group_matcher's stem: embeddings and prefix tokens. */
const STEM = /^(cls_token|reg_token|dist_token|pos_embed|patch_embed)/;
const BLOCK = /^blocks\.(\d+)\./;
/** timm's `^norm` (also matches norm_pre) joins the group before it, the last block's. */
const JOINS_PREVIOUS = /^norm/;

/**
 * The layer id of each parameter as timm's `param_groups_layer_decay` assigns
 * it to a VisionTransformer (via `group_matcher(coarse=False)` and
 * `group_parameters(..., reverse=True)`): 0 for the stem (patch embedding,
 * position embedding, class/register/distillation tokens), i+1 for block i,
 * the last block's id for `norm` (and `norm_pre`: timm's `^norm` matches it too),
 * and one past the last group for everything unmatched (head, fc_norm, attn_pool).
 */
export function layerIds(names: readonly string[]): Map<string, number> {
  // Ordinals as timm's matcher builds them: [0] stem, [1, i] block i, [1, 99999] norm, [inf] the rest.
  const ordinal = (name: string): number[] => {
    if (STEM.test(name)) return [0];
    const b = BLOCK.exec(name);
    if (b) return [1, Number(b[1])];
    if (JOINS_PREVIOUS.test(name)) return [1, 99999];
    return [Infinity];
  };
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  };
  const keys = new Map<string, number[]>();
  for (const n of names) keys.set(n, ordinal(n));
  const distinct = [...new Map([...keys.values()].map((k) => [k.join(','), k])).values()].sort(compare);
  const idOf = new Map<string, number>();
  let id = -1;
  for (const k of distinct) {
    if (id < 0 || k[k.length - 1] !== 99999) id += 1;
    idOf.set(k.join(','), id);
  }
  return new Map(names.map((n) => [n, idOf.get(keys.get(n)!.join(','))!]));
}

/**
 * Layer-wise learning-rate decay (BEiT, timm `--layer-decay`): each
 * parameter's learning rate is multiplied by `decay ** (maxId - layerId)`,
 * so the head keeps the full rate and each layer below gets `decay` times
 * the rate of the one above. Returns the scale of every name.
 */
export function layerDecayScales(names: readonly string[], decay: number): Map<string, number> {
  if (!(decay > 0 && decay <= 1)) throw new TrainingConfigError(`layer decay must be in (0, 1], got ${decay}`, 'timm recipes use 0.65 to 0.85');
  const ids = layerIds(names);
  const maxId = Math.max(0, ...ids.values());
  return new Map([...ids].map(([n, id]) => [n, decay ** (maxId - id)]));
}
