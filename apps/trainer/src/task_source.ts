// What `vit predict` and `vit embed` share: the model source, input files, .npy output.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { isPresetName, presetNames, serializeNpy } from '@vitkit/core';
import { PREPROCESS_PRESET_NAMES } from '@vitkit/preprocessing';
import { loadTaskModel, ModelSourceError, type TaskModel, type TaskOptions } from '@vitkit/tasks';
import { writeFileAtomic } from '@vitkit/weights';
import { UsageError } from './errors.js';

/** The flags that name a model source, as `vit predict` and `vit embed` take them. */
export const MODEL_SOURCE_OPTIONS = {
  weights: { type: 'string' },
  config: { type: 'string' },
  preprocess: { type: 'string' },
  backend: { type: 'string' },
} as const;

/** `--backend` choices. */
export const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;

/**
 * The model, its labels and its preprocessing from `--weights` (a directory holding config.json and
 * preprocessor_config.json, a file with them beside it, a URL, hf://), with `--config` / `--preprocess`
 * filling in or overriding; the task layer's errors in CLI terms.
 */
export async function loadTask<T extends TaskModel>(
  weights: string,
  flags: { config: string | undefined; preprocess: TaskOptions['preprocess'] },
  Kind: new (...args: ConstructorParameters<typeof TaskModel>) => T,
): Promise<T> {
  const { config, preprocess } = flags;
  const url = config !== undefined && /^https?:\/\//i.test(config);
  if (config !== undefined && !isPresetName(config) && !(url ? new URL(config).pathname : config).toLowerCase().endsWith('.json')) {
    throw new UsageError(`--config "${config}" is neither a preset nor a .json file`, `use a config.json (path or http(s) URL) or one of: ${presetNames().join(', ')}`);
  }
  if (config !== undefined && !isPresetName(config) && !url) await readInput(config, 'config'); // a missing file is a usage error
  try {
    return await loadTaskModel(weights, {
      ...(config !== undefined ? { config } : {}),
      ...(preprocess !== undefined ? { preprocess } : {}),
      onNote: (m) => console.error(`note: ${m}`),
    }, Kind);
  } catch (e) {
    if (e instanceof ModelSourceError && e.code === 'E_NO_PREPROCESSING') {
      throw new UsageError(
        `image inputs need --preprocess ${PREPROCESS_PRESET_NAMES.join('|')} (no preprocessor_config.json beside the weights)`,
        'or give an already preprocessed NHWC float32 .npy',
      );
    }
    if (e instanceof ModelSourceError && e.code === 'E_NO_CONFIG') throw new UsageError(e.reason, 'give --config config.json or a preset name');
    throw e;
  }
}

export async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : e instanceof Error ? e.message : String(e);
    throw new UsageError(`cannot read ${what} file ${path}: ${why}`, `check the ${what} path`);
  }
}

export /** Writes a tensor as float32 .npy atomically (temp file + rename), so readers never see half a file. */
async function writeNpyAtomic(path: string, t: tf.Tensor | { shape: number[]; data: Float32Array }): Promise<void> {
  const bytes = serializeNpy({ shape: [...t.shape], dtype: 'float32', data: 'dataSync' in t ? (t.dataSync() as Float32Array) : t.data });
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, 'check that the directory is writable');
  }
}
