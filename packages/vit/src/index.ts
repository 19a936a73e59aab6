// The model.
export { VisionTransformer, type VisionTransformerOptions } from './vision_transformer.js';
export { createViT } from './create_vit.js';
export { disposeViTOutput, type ViTForwardOptions, type ViTOutput } from './output.js';
export { toImageBatch } from './image_input.js';

// Its building blocks, for custom architectures.
export { ViTInputLayer, PatchEmbedding } from '@vitkit/input-layer';
export { ViTEncoder, Block, Attention, Mlp } from '@vitkit/encoder';
export { ViTHead } from '@vitkit/head';

// The parts of @vitkit/core most users need, so that @vitkit/vit is the one package to install.
export {
  Module,
  Rng,
  setupBackend,
  resolveConfig,
  presetConfig,
  presetNames,
  isPresetName,
  PRESETS,
  parseNpy,
  serializeNpy,
  numTokens,
  patchGrid,
  VitkitError,
  ConfigError,
  ShapeError,
  FormatError,
  BackendUnavailableError,
  StateDictError,
  DuplicateNameError,
  isVitkitError,
  type ViTConfig,
  type ViTConfigInput,
  type Pooling,
  type StateDict,
  type Parameter,
  type NpyArray,
  type BackendChoice,
  type BackendName,
  type BackendSetup,
  type LoadStateDictOptions,
  type LoadStateDictResult,
} from '@vitkit/core';

// Pretrained weights (any format and convention @vitkit/weights reads).
export { loadViT, viTFromCheckpoint, resolveConfigOption, type LoadViTOptions } from './load_vit.js';
