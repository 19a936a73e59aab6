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

/** The model's weights as safetensors bytes (timm names, PyTorch layouts). */
export function modelSafetensors(model: TrainableModel, metadata: Record<string, string> = {}): Uint8Array {
  const state = model.stateDict();
  try {
    const raw = new Map([...state].map(([k, t]) => [k, toRaw(t)] as const));
    checkFinite(raw, 'model weights'); // never save NaN over a finite checkpoint
    return serializeSafetensors(raw, { metadata: { format: 'pt', ...metadata } });
  } finally {
    tf.dispose([...state.values()]);
  }
}
