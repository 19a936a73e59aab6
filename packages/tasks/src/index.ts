// @vitkit/tasks: "what is in this photo" and "which photos look alike" in a
// few lines, from one model source, the same in Node and browsers.
export { loadImageClassifier, ImageClassifier, topPredictions, type Classification, type Prediction, type ClassifyOptions } from './classifier.js';
export { loadImageEmbedder, ImageEmbedder, EMBED_POOLINGS, type EmbedOptions, type EmbedPooling } from './embedder.js';
export { cosineSimilarity, similarityMatrix, nearestNeighbours, type Neighbour } from './similarity.js';
export {
  foundPreprocessing,
  loadTaskModel,
  resolvePreprocess,
  TaskModel,
  type HeadKind,
  type ModelSource,
  type PreprocessOption,
  type PrepareOptions,
  type TaskModelDetails,
  type TaskOptions,
} from './model_source.js';
export { type PreparedBatch } from './prepare.js';
export { sortModelFiles, type ModelFiles } from './files.js';
export { ModelSourceError, type ModelSourceErrorCode } from './errors.js';
export { toPixels, type ImageInput, type ImageDataLike, type DrawableImage } from './images.js';
// Backend setup from @vitkit/core, so that @vitkit/tasks is the one package to install.
export { setupBackend, type BackendChoice, type BackendSetup, type SetupBackendOptions } from '@vitkit/core';
