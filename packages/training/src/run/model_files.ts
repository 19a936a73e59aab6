import * as tf from '@tensorflow/tfjs-core';
import type { ViTConfig } from '@vitkit/core';
import { checkFinite, configToHF, serializeSafetensors, type RawTensor } from '@vitkit/weights';
import type { TrainableModel } from '../train/model.js';

// The files of a model directory as bytes and JSON, with no file system:
// run directories (Node) write them to disk, a browser offers them as downloads.

/** The model config as a Hugging Face config.json, or vitkit's own field names where HF cannot express it. */
export function configJson(config: ViTConfig): Record<string, unknown> {
  try {
    return configToHF(config);
  } catch {
    return { ...config, format: 'vitkit' };
  }
}

export function toRaw(t: tf.Tensor): RawTensor {
  return { shape: [...t.shape], data: t.dataSync() as Float32Array };
}

function serializeWeights(raw: Map<string, RawTensor>, metadata: Record<string, string>): Uint8Array {
  checkFinite(raw, 'model weights'); // never save NaN over a finite checkpoint
  return serializeSafetensors(raw, { metadata: { format: 'pt', ...metadata } });
}

/** The model's weights as safetensors bytes (timm names, PyTorch layouts). */
export function modelSafetensors(model: TrainableModel, metadata: Record<string, string> = {}): Uint8Array {
  const state = model.stateDict();
  try {
    return serializeWeights(new Map([...state].map(([k, t]) => [k, toRaw(t)] as const)), metadata);
  } finally {
    tf.dispose([...state.values()]);
  }
}

/** modelSafetensors() reading the weights with `await data()` (for webgpu, whose synchronous reads are unreliable in workers). */
export async function modelSafetensorsAsync(model: TrainableModel, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const state = model.stateDict();
  try {
    const raw = new Map<string, RawTensor>();
    for (const [k, t] of state) raw.set(k, { shape: [...t.shape], data: (await t.data()) as Float32Array });
    return serializeWeights(raw, metadata);
  } finally {
    tf.dispose([...state.values()]);
  }
}
