// Model files a user picked or dropped in a browser (a few Files, or a whole
// folder): the one weights file, and the JSON files sorted by what they hold.
import { ConfigError } from '@vitkit/core';
import { configInputFromJson } from '@vitkit/weights';
import { ModelSourceError } from './errors.js';

export const CONFIG_JSON = 'config.json';
export const PREPROCESSOR_CONFIG = 'preprocessor_config.json';
const WEIGHT_FILE = /\.(safetensors|npz)$/i;

/** Formats people try, and why they cannot be used (checked only when no readable weights file is there). */
const UNREADABLE: [RegExp, string, string][] = [
  [/\.(bin|pt|pth|ckpt)$/i, 'is a PyTorch pickle, which cannot be read safely', 'convert it to .safetensors first (vit convert, or safetensors.torch.save_file in Python)'],
  [/\.(h5|keras|onnx|tflite|pb)$/i, 'is not a format vitkit reads', 'export the weights as .safetensors or .npz'],
  [/\.safetensors\.index\.json$/i, 'is a shard index; shards cannot be read from picked files', 'load sharded checkpoints by URL or hf://org/repo'],
];

/** The files of a model, sorted. */
export interface ModelFiles {
  weights: Blob;
  /** Parsed JSON files under the names the loader looks for (`config.json`, `preprocessor_config.json`). */
  sidecars: Record<string, unknown>;
  /** Every file used, by name, for display. */
  used: string[];
}

/** The name of a picked file, or of a file in a dropped folder (its path inside the folder). */
function nameOf(file: Blob): string | undefined {
  const f = file as { name?: unknown; webkitRelativePath?: unknown };
  if (typeof f.webkitRelativePath === 'string' && f.webkitRelativePath) return f.webkitRelativePath;
  return typeof f.name === 'string' ? f.name : undefined;
}

function baseName(path: string): string {
  return path.replace(/^.*[\\/]/, '');
}

async function parseJson(blob: Blob, name: string): Promise<unknown> {
  try {
    return JSON.parse(await blob.text()) as unknown;
  } catch (e) {
    throw new ConfigError(`${name} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, 'pick the config.json that came with the weights');
  }
}

function looksLikePreprocessor(json: unknown): boolean {
  return typeof json === 'object' && json !== null && ['image_mean', 'do_resize', 'image_processor_type', 'feature_extractor_type'].some((k) => k in json);
}

/**
 * Sorts picked or dropped files: exactly one `.safetensors`/`.npz` file, and
 * JSON files by content (a model config under any name becomes `config.json`,
 * an image processor config `preprocessor_config.json`). Other files of a
 * dropped folder (README, tokenizer files, a PyTorch copy of the weights) are
 * left alone; a folder with only unreadable weights says why.
 */
export async function sortModelFiles(files: readonly Blob[]): Promise<ModelFiles> {
  const named = files.map((file) => ({ file, name: nameOf(file) }));
  const weights = named.filter(({ name }) => name === undefined || WEIGHT_FILE.test(name));
  if (weights.length !== 1) {
    if (weights.length === 0) {
      for (const { name } of named) {
        for (const [pattern, reason, hint] of UNREADABLE) if (name && pattern.test(name)) throw new ModelSourceError('E_FILES', `"${baseName(name)}" ${reason}`, hint);
      }
    }
    const names = weights.map(({ name }) => name ?? 'bytes').join(', ');
    throw new ModelSourceError(
      'E_FILES',
      weights.length === 0 ? `no .safetensors or .npz file among ${named.map(({ name }) => name ?? 'bytes').join(', ')}` : `more than one weights file (${names})`,
      'pick one weights file (.safetensors or .npz) with its config.json and preprocessor_config.json',
    );
  }
  const sidecars: Record<string, unknown> = {};
  const used = [weights[0]!.name ?? 'weights'];
  for (const { file, name } of named) {
    if (!name?.toLowerCase().endsWith('.json') || /\.index\.json$/i.test(name)) continue;
    const json = await parseJson(file, name);
    const base = baseName(name);
    let role: string | undefined;
    if (base === CONFIG_JSON || base === PREPROCESSOR_CONFIG) role = base;
    else if (configInputFromJson(json) !== undefined) role = CONFIG_JSON;
    else if (looksLikePreprocessor(json)) role = PREPROCESSOR_CONFIG;
    // Other JSON (tokenizer, generation config) is not for the vision model.
    if (role === undefined) continue;
    if (sidecars[role] !== undefined) throw new ModelSourceError('E_FILES', `two files hold a ${role} (${name} is the second)`, `pick one ${role}`);
    sidecars[role] = json;
    used.push(name);
  }
  return { weights: weights[0]!.file, sidecars, used };
}
