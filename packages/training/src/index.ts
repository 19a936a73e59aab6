// The Node entry: everything in portable.ts, plus file loaders, worker threads and run directories.
export * from './portable.js';

// Gradients (call once before training in Node).
export { registerGradients, gradientsRegistered } from './register_gradients.js';

// Data files.
export { parseIdx, readIdx, serializeIdx, type IdxArray } from './data/idx.js';
export {
  loadMnistDir,
  loadIdxPair,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_NORMALIZATION,
  MNIST_NORMALIZATION,
  type MnistDirOptions,
} from './data/mnist.js';
export {
  loadFashionMnist,
  locateFashionMnist,
  downloadFashionMnist,
  fashionMnistSearchPath,
  FASHION_MNIST_URL,
  FASHION_MNIST_FILES,
  SYSTEM_FASHION_MNIST_DIR,
  type FashionMnistOptions,
} from './data/fashion_mnist.js';
export { loadCifar10Dir, parseCifar10, CIFAR10_CLASSES, CIFAR10_NORMALIZATION } from './data/cifar.js';
export { loadNpyPair, loadNpyPairDir } from './data/npy_pair.js';
export { loadImageFolder, imageFolderClassNames, IMAGENET_NORMALIZATION, type ImageFolderOptions } from './data/image_folder.js';
export { datasetNormalization, defaultFolderPreprocessing, preprocessedSize } from './data/folder_preprocessing.js';
export { loadDataset, datasetClassNames, detectDatasetKind, type DatasetKind, type LoadDatasetOptions, type LoadedDataset } from './data/load.js';

// Data-parallel training on worker threads.
export { GradientWorkerPool, type GradientWorkerPoolOptions } from './parallel/gradient_worker_pool.js';

// Run directories.
export { makeDirectory, writeFileAtomic } from './run/atomic.js';
export {
  saveRunCheckpoint,
  readRunCheckpoint,
  restoreTrainer,
  disposeRunCheckpoint,
  checkpointDirOf,
  cleanStaleStaging,
  RUN_FILES,
  type RunCheckpoint,
  type TrainerStateFile,
} from './run/checkpoint.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './run/metrics.js';
export { renderTrainingPlot } from './run/plot.js';
export {
  runTraining,
  runOutputsIn,
  removeRunOutputs,
  preprocessorConfig,
  METRICS_FILE,
  PLOT_FILE,
  PREPROCESSOR_FILE,
  type RunTrainingOptions,
  type RunTrainingResult,
  type StepProgress,
} from './run/run_training.js';
