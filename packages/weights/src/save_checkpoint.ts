import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ViTConfig } from '@vitkit/core';
import type { Convention } from './conventions/convention.js';
import { convertFromTimm } from './conventions/convert.js';
import type { FloatStorage } from './dtypes.js';
import { configToHF } from './hf_config.js';
import { nodeModules, writeFileAtomic } from './node.js';
import { serializeNpz } from './npz.js';
import type { RawTensors } from './raw_tensor.js';
import { safetensorsParts } from './safetensors.js';
import { fromStateDict } from './state_dict.js';

export interface SaveOptions {
  /** Naming convention to write (default timm). */
  convention?: Convention;
  /** The model's config: needed for the JAX layout (head count) and for HF's config.json. */
  config: ViTConfig;
  /** Float storage for safetensors (default F32). */
  dtype?: FloatStorage;
  /** Extra safetensors metadata (format: "pt" is always written). */
  metadata?: Record<string, string>;
}

export interface SaveResult {
  /** Files written, weights first. */
  files: string[];
  /** timm tensors the convention has no place for and left out (e.g. the head for hf-model). */
  dropped: string[];
}

/**
 * Writes timm-named tensors (typed arrays or a tfjs StateDict) in a
 * convention: safetensors, or .npz for `jax`. For the Hugging Face conventions (`hf*`) a
 * config.json is written beside the weights. Every file is written
 * atomically (temporary file + rename). Node only.
 */
export async function saveCheckpoint(tensors: RawTensors | ReadonlyMap<string, tf.Tensor>, path: string, options: SaveOptions): Promise<SaveResult> {
  const convention = options.convention ?? 'timm';
  // Hugging Face conventions: the config first, so that what the class cannot express fails before any work.
  const hfConfig = convention.startsWith('hf')
    ? configToHF(convention === 'hf-model' ? { ...options.config, numClasses: 0, labels: undefined } : options.config, convention)
    : undefined;
  const raw = isStateDict(tensors) ? await fromStateDict(tensors) : tensors;
  const { tensors: converted, dropped } = convertFromTimm(raw, convention, { numHeads: options.config.numHeads });
  const files = [path];
  if (convention === 'jax') {
    if (options.dtype && options.dtype !== 'F32') throw new ConfigError('the JAX .npz writer stores float32 only', 'leave dtype at F32 for --to jax');
    await writeFileAtomic(path, serializeNpz(converted));
  } else {
    const parts = safetensorsParts(converted, { metadata: { format: 'pt', ...options.metadata }, ...(options.dtype ? { dtype: options.dtype } : {}) });
    await writeFileAtomic(path, [parts.header, ...parts.chunks]);
  }
  if (hfConfig) {
    const { path: p } = await nodeModules();
    const configPath = p.join(p.dirname(path), 'config.json');
    await writeFileAtomic(configPath, new TextEncoder().encode(`${JSON.stringify(hfConfig, null, 2)}\n`));
    files.push(configPath);
  }
  return { files, dropped };
}

function isStateDict(t: RawTensors | ReadonlyMap<string, tf.Tensor>): t is ReadonlyMap<string, tf.Tensor> {
  const first = t.values().next().value;
  return first instanceof tf.Tensor;
}
