// @vitkit/tasks: "what is in this photo" and "which photos look alike" in a
// few lines, from one model source, the same in Node and browsers.
export { loadImageClassifier, ImageClassifier, topPredictions, type Classification, type Prediction, type ClassifyOptions } from './classifier.js';
export { loadImageEmbedder, ImageEmbedder, cosineSimilarity, EMBED_POOLINGS, type EmbedOptions, type EmbedPooling } from './embedder.js';
export { loadTaskModel, preprocessingJson, TaskModel, ModelSourceError, type ModelSource, type TaskOptions } from './model_source.js';
export { toPixels, type ImageInput, type ImageDataLike, type DrawableImage } from './images.js';
// Backend setup from @vitkit/core, so that @vitkit/tasks is the one package to install.
export { setupBackend, type BackendChoice, type BackendSetup, type SetupBackendOptions } from '@vitkit/core';
