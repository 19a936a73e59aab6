import * as tf from '@tensorflow/tfjs-core';
import { VisionTransformer } from '@vitkit/vit';
import { browserCache, loadCheckpoint, type LoadedCheckpoint, type LoadOptions, type Progress } from '@vitkit/weights';
import { InputError } from './errors.js';
import { modelPreprocessing, type ModelPreprocessing } from './preprocess.js';
import type { ModelInfo, ModelSource } from './protocol.js';
import { configInput, fetchSidecars, sidecarsFromFiles, type Sidecars } from './sidecars.js';

export type LoadProgress = (loaded: number, total: number | undefined, what: string) => void;

export interface LoadedModel {
  model: VisionTransformer;
  info: ModelInfo;
  preprocessing: ModelPreprocessing;
}

const WEIGHT_EXTENSIONS = ['.safetensors', '.npz'];
/** Formats people try, and why they cannot work here. */
const UNSUPPORTED: [RegExp, string, string][] = [
  [/\.(bin|pt|pth|ckpt)$/i, 'is a PyTorch pickle, which a browser cannot read safely', 'convert it to .safetensors first (pnpm -s vit convert, or safetensors.torch.save_file in Python)'],
  [/\.(h5|keras|onnx|tflite|pb)$/i, 'is not a format vitkit reads', 'export the weights as .safetensors or .npz'],
  [/\.safetensors\.index\.json$/i, 'is a shard index; the shards cannot be read as picked files', 'load sharded checkpoints by URL or hf://org/repo'],
];

/** Splits picked files into the one checkpoint and its JSON companions, with a clear error for anything else. */
function sortModelFiles(files: readonly File[]): { weights: File; json: File[] } {
  for (const f of files) {
    for (const [pattern, reason, hint] of UNSUPPORTED) if (pattern.test(f.name)) throw new InputError(`“${f.name}” ${reason}`, hint);
  }
  const weights = files.filter((f) => WEIGHT_EXTENSIONS.some((ext) => f.name.toLowerCase().endsWith(ext)));
  const json = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  const other = files.filter((f) => !weights.includes(f) && !json.includes(f));
  if (other.length) throw new InputError(`“${other[0]!.name}” is not a checkpoint or a config`, 'pick a .safetensors or .npz file, with its config.json');
  if (weights.length === 0) throw new InputError(`no .safetensors or .npz file among ${files.map((f) => f.name).join(', ')}`, 'pick the weights file together with its config.json');
  if (weights.length > 1) throw new InputError(`more than one checkpoint picked (${weights.map((f) => f.name).join(', ')})`, 'pick one weights file at a time');
  return { weights: weights[0]!, json };
}

/**
 * Loads a checkpoint (any format and naming convention @vitkit/weights
 * reads) into a VisionTransformer. Nothing leaks on failure: the state
 * tensors and a half-built model are freed.
 */
export async function loadModel(source: ModelSource, onProgress: LoadProgress): Promise<LoadedModel> {
  const start = performance.now();
  let network = false;
  const countingFetch: typeof fetch = (input, init) => {
    network = true;
    return fetch(input, init);
  };
  const progress = (p: Progress): void => onProgress(p.loaded, p.total, p.file);

  let loaded: LoadedCheckpoint;
  let sidecars: Sidecars;
  let name: string;
  let where: string;
  if (source.kind === 'files') {
    const { weights, json } = sortModelFiles(source.files);
    sidecars = await sidecarsFromFiles(json);
    onProgress(0, weights.size, weights.name);
    const config = configInput(sidecars);
    loaded = await loadCheckpoint(weights, { ...(config ? { config } : {}) });
    onProgress(weights.size, weights.size, weights.name);
    name = weights.name.replace(/\.(safetensors|npz)$/i, '');
    where = `file: ${[weights, ...json].map((f) => f.name).join(' + ')}`;
  } else {
    const cache = source.cache === false ? undefined : browserCache('vitkit-web-demo');
    const common = { fetch: countingFetch, ...(source.endpoint ? { endpoint: source.endpoint } : {}) };
    sidecars = await fetchSidecars(source.url, { cache, ...common });
    const config = configInput(sidecars);
    const loadOptions: LoadOptions = { ...common, cache: cache ?? false, onProgress: progress, ...(config ? { config } : {}) };
    loaded = await loadCheckpoint(source.url, loadOptions);
    name = source.name ?? (source.url.startsWith('hf://') ? source.url.slice(5) : decodeURIComponent(new URL(source.url).pathname.split('/').pop() ?? source.url));
    where = source.url;
  }

  let model: VisionTransformer | undefined;
  try {
    model = new VisionTransformer(loaded.config, { seed: 0 });
    model.loadStateDict(loaded.state);
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    tf.dispose([...loaded.state.values()]);
  }
  const config = model.config;
  const preprocessing = modelPreprocessing(sidecars, config.imageSize);
  const info: ModelInfo = {
    name,
    source: where,
    imageSize: config.imageSize,
    patchSize: config.patchSize,
    inChannels: config.inChannels,
    embedDim: config.embedDim,
    depth: config.depth,
    numHeads: config.numHeads,
    numClasses: config.numClasses,
    numParams: model.numParameters(),
    labels: config.labels ?? Array.from({ length: config.numClasses }, (_, i) => `class ${i}`),
    preprocess: preprocessing.name,
    fromCache: source.kind === 'url' && source.cache !== false && !network,
    loadMs: performance.now() - start,
  };
  return { model, info, preprocessing };
}
