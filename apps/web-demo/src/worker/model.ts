import { ImageEmbedder, loadImageClassifier, type ImageClassifier, type TaskOptions } from '@vitkit/tasks';
import { browserCache, type Progress } from '@vitkit/weights';
import type { ModelInfo, ModelSource } from './protocol.js';

export type LoadProgress = (loaded: number, total: number | undefined, what: string) => void;

/** A model loaded through the task layer, and what the page shows about it. */
export interface LoadedModel {
  /** Classifies (top-k, logits) and gives the network for attention maps. */
  classifier: ImageClassifier;
  /** The same weights as an embedder, for compare mode. */
  embedder: ImageEmbedder;
  info: ModelInfo;
}

/** A name for display: the file or repository the model came from. */
function displayName(source: ModelSource): string {
  if (source.kind === 'files') {
    const weights = source.files.find((f) => /\.(safetensors|npz)$/i.test(f.name));
    return (weights?.name ?? source.files[0]?.name ?? 'model').replace(/\.(safetensors|npz)$/i, '');
  }
  if (source.name) return source.name;
  if (source.url.startsWith('hf://')) return source.url.slice(5);
  return decodeURIComponent(new URL(source.url).pathname.split('/').pop() ?? source.url);
}

/**
 * Loads a model with @vitkit/tasks: weights, config.json (labels) and preprocessing from a URL,
 * hf://, or picked / dropped files. Nothing leaks on failure (the task layer frees what it made).
 */
export async function loadModel(source: ModelSource, onProgress: LoadProgress): Promise<LoadedModel> {
  const start = performance.now();
  // Any request at all means the checkpoint was not all in the cache.
  let network = false;
  const countingFetch: typeof fetch = (input, init) => {
    network = true;
    return fetch(input, init);
  };
  const options: TaskOptions = {
    onProgress: (p: Progress) => onProgress(p.loaded, p.total, p.file),
    // Checkpoints without preprocessing of their own (a bare .safetensors + config.json) get Hugging Face ViT's.
    defaultPreprocess: 'hf',
    onNote: () => {},
  };
  let classifier: ImageClassifier;
  if (source.kind === 'files') {
    classifier = await loadImageClassifier(source.files, options);
  } else {
    classifier = await loadImageClassifier(source.url, {
      ...options,
      fetch: countingFetch,
      cache: source.cache === false ? false : browserCache('vitkit-web-demo'),
      ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    });
  }
  const embedder = ImageEmbedder.from(classifier);
  const config = classifier.config;
  const info: ModelInfo = {
    name: displayName(source),
    source: source.kind === 'files' ? `file: ${source.files.map((f) => f.name).join(' + ')}` : source.url,
    imageSize: config.imageSize,
    patchSize: config.patchSize,
    inChannels: config.inChannels,
    embedDim: config.embedDim,
    depth: config.depth,
    numHeads: config.numHeads,
    numClasses: config.numClasses,
    head: classifier.details.head,
    embeddingDim: embedder.dim,
    numParams: classifier.model.numParameters(),
    labels: classifier.labels ?? Array.from({ length: config.numClasses }, (_, i) => `class ${i}`),
    preprocess: classifier.details.preprocessSource === 'defaultPreprocess option' ? 'hf default' : classifier.details.preprocessSource,
    fromCache: source.kind === 'url' && source.cache !== false && !network,
    loadMs: performance.now() - start,
  };
  return { classifier, embedder, info };
}
