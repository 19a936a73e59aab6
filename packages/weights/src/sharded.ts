import { CheckpointKeysError, WeightsFormatError } from './errors.js';
import type { RawTensors } from './raw_tensor.js';
import { isSafeRelativePath } from './sources/hub.js';

/**
 * Sharded checkpoints: `model.safetensors.index.json` maps each tensor name
 * to the shard file holding it ({ "metadata": {...}, "weight_map": {...} }).
 */
export interface ShardIndex {
  /** Tensor name -> shard file name (relative to the index). */
  weightMap: Map<string, string>;
  /** Shard files, each once, in first-use order. */
  shards: string[];
  metadata: Record<string, unknown>;
}

export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

export function parseShardIndex(bytes: Uint8Array, name = SHARD_INDEX_FILE): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new WeightsFormatError(`${name} is not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new WeightsFormatError(`${name} has no "weight_map" object`);
  const weightMap = new Map<string, string>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || !isSafeRelativePath(file)) {
      throw new WeightsFormatError(`${name}: tensor "${tensor}" points to an invalid shard ${JSON.stringify(file)}`, 'shard names must be relative file names');
    }
    weightMap.set(tensor, file);
  }
  if (weightMap.size === 0) throw new WeightsFormatError(`${name} lists no tensors`);
  const metadata = (json as { metadata?: unknown }).metadata;
  return {
    weightMap,
    shards: [...new Set(weightMap.values())],
    metadata: typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {},
  };
}

/**
 * Joins the tensors of every shard, checking each against the index: every
 * listed tensor must be in its shard, and shards may hold nothing else.
 */
export function mergeShards(index: ShardIndex, shards: ReadonlyMap<string, RawTensors>): RawTensors {
  const out: RawTensors = new Map();
  const missing: string[] = [];
  const unexpected: string[] = [];
  for (const [tensor, file] of index.weightMap) {
    const t = shards.get(file)?.get(tensor);
    if (t) out.set(tensor, t);
    else missing.push(`${tensor} (in ${file})`);
  }
  for (const [file, tensors] of shards) {
    for (const name of tensors.keys()) if (index.weightMap.get(name) !== file) unexpected.push(`${name} (in ${file})`);
  }
  if (missing.length || unexpected.length) {
    throw new CheckpointKeysError(missing, unexpected, 'the shard files do not match model.safetensors.index.json; download them again');
  }
  return out;
}
