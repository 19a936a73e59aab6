// Gradients (call once before training in Node).
export { registerGradients, gradientsRegistered } from './register_gradients.js';

// Errors.
export { DataError, TrainingConfigError, CheckpointError, GradientsUnavailableError, WorkerError, OutputError, DivergenceError } from './errors.js';

// Loss and optimization.
export { crossEntropy, smoothTargets, type CrossEntropyOptions, type Targets } from './loss.js';
export { AdamW, type AdamWOptions, type AdamWState, type OptimizedParameter } from './optim/adamw.js';
export { clipByGlobalNorm, globalNorm, type ClipResult } from './optim/clip.js';
export { WeightEma, emaDecayAt, validateEmaDecay } from './optim/ema.js';
export { learningRateAt, validateSchedule, type ScheduleKind, type ScheduleOptions } from './optim/schedule.js';
export { optimizedParameters, type WeightDecayOn } from './optim/decay.js';
export { layerIds, layerDecayScales } from './optim/layer_decay.js';

// Data.
export {
  subset,
  classCounts,
  validateDataset,
  inferNumClasses,
  checkInferredClassCount,
  type ImageDataset,
  type DatasetSplits,
  type Normalization,
} from './data/dataset.js';
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
export { epochOrder, splitIndices } from './data/order.js';
export { makeBatch, gatherPixels, fitToModel, pixelsToTensor, type Batch, type InputSpec, type GatherOptions } from './data/batch.js';
export { DEFAULT_CROP_SCALE, defaultAugmentation, type Augmentation, type DefaultAugmentationOptions } from './data/augmentation.js';

// Training.
export type { TrainableModel } from './train/model.js';
export { lossAndGradients, trainingLoss, type LossAndGradients, type MicroBatch, type GradientOptions } from './train/loss_and_gradients.js';
export {
  Trainer,
  type TrainerOptions,
  type TrainerState,
  type StepResult,
  type ResolvedTrainerOptions,
} from './train/trainer.js';
export { DEFAULT_TTA_ZOOM, evaluate, TEST_TIME_AUGMENTATIONS, zoomCenter, type EvaluationResult, type EvaluateOptions, type TestTimeAugmentation } from './train/evaluate.js';
export { createTrainingStep, measureTrainingThroughput, type ThroughputOptions, type TrainingStepOptions, type TrainingStepRunner, type TrainingThroughput } from './train/throughput.js';

// Fine-tuning: freezing, linear probes on cached embeddings.
export { parseFreeze, formatFreeze, validateFreeze, type FreezeMode } from './finetune/freeze.js';
export { splitModel, isFineTunable, type FineTunableModel, type ModelSplit, type SplitOutput } from './finetune/model_split.js';
export { embedDataset, embeddingRows, type EmbeddingCache, type EmbedOptions } from './finetune/embeddings.js';

// Data-parallel training on worker threads.
export { GradientWorkerPool, type GradientWorkerPoolOptions } from './parallel/gradient_worker_pool.js';
export {
  computeShard,
  shardSizes,
  modelWeights,
  setModelWeights,
  type ShardBatch,
  type ShardRequest,
  type ShardResult,
  type ShardWorkers,
} from './parallel/shard.js';
export { combineShardGradients } from './parallel/combine.js';

// Run directories.
export { makeDirectory, writeFileAtomic } from './run/atomic.js';
export {
  saveRunCheckpoint,
  readRunCheckpoint,
  restoreTrainer,
  disposeRunCheckpoint,
  checkpointDirOf,
  cleanStaleStaging,
  configJson,
  modelSafetensors,
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
