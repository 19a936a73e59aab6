// What runs anywhere tfjs-core runs (browsers, Node, workers): nothing here
// touches the file system, threads or Node built-ins. Both entry points
// (index.ts for Node, browser.ts for bundlers) export all of it.

// Errors.
export { DataError, TrainingConfigError, CheckpointError, GradientsUnavailableError, WorkerError, OutputError, DivergenceError } from './errors.js';

// Loss and optimization.
export { crossEntropy, smoothTargets, type CrossEntropyOptions, type Targets } from './loss.js';
export { AdamW, type AdamWOptions, type AdamWState, type OptimizedParameter } from './optim/adamw.js';
export { clipByGlobalNorm, clipByGlobalNormAsync, globalNorm, type ClipResult } from './optim/clip.js';
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
export { DEFAULT_TTA_ZOOM, evaluate, evaluateAsync, TEST_TIME_AUGMENTATIONS, zoomCenter, type EvaluationResult, type EvaluateOptions, type TestTimeAugmentation } from './train/evaluate.js';
export { createTrainingStep, measureTrainingThroughput, type ThroughputOptions, type TrainingStepOptions, type TrainingStepRunner, type TrainingThroughput } from './train/throughput.js';

// Fine-tuning: freezing, linear probes on cached embeddings.
export { parseFreeze, formatFreeze, validateFreeze, type FreezeMode } from './finetune/freeze.js';
export { splitModel, isFineTunable, type FineTunableModel, type ModelSplit, type SplitOutput } from './finetune/model_split.js';
export { embedDataset, embedDatasetAsync, embeddingRows, type EmbeddingCache, type EmbedOptions } from './finetune/embeddings.js';

// Data-parallel training: the shard arithmetic (the worker pool itself is Node-only).
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

// Model directories as bytes (run directories write them; a browser offers them as downloads).
export { configJson, modelSafetensors, modelSafetensorsAsync } from './run/model_files.js';
