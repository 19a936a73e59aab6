import type { AttentionMaps } from '../worker/protocol.js';

/** Which map to show: the rollout, or one layer's head (head 0 = mean of the heads). */
export type AttentionChoice = { mode: 'rollout' } | { mode: 'layer'; layer: number; head: number };

/**
 * The chosen map, one value per patch. `layer` is 1-based, `head` 1-based
 * with 0 meaning the mean over heads.
 */
export function selectMap(maps: AttentionMaps, choice: AttentionChoice): Float32Array {
  if (choice.mode === 'rollout') return maps.rollout;
  const patches = maps.grid[0] * maps.grid[1];
  const layer = Math.min(Math.max(choice.layer, 1), maps.depth) - 1;
  const offset = (h: number): number => (layer * maps.heads + h) * patches;
  if (choice.head > 0) {
    const head = Math.min(choice.head, maps.heads) - 1;
    return maps.perHead.subarray(offset(head), offset(head) + patches);
  }
  const mean = new Float32Array(patches);
  for (let h = 0; h < maps.heads; h++) {
    const start = offset(h);
    for (let p = 0; p < patches; p++) mean[p]! += maps.perHead[start + p]! / maps.heads;
  }
  return mean;
}
