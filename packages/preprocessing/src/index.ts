// @vitkit/preprocessing: decode images, resize them exactly as Pillow does,
// crop/normalize them as timm, Hugging Face or torchvision do, and augment
// them reproducibly for training.
export * from './errors.js';
export { assertImage, toRgb, type Image, type Image8, type FloatArray, type ModelInput } from './image.js';

export {
  decodeImage,
  decodeImageSync,
  inspectImage,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  type DecodedImage,
  type ImageBytes,
} from './decode/decode.js';
export { sniffFormat, type ImageFormat } from './decode/sniff.js';
export { readOrientation, type Orientation } from './decode/exif.js';
export { applyOrientation } from './decode/orientation.js';
export { initWebp, setWebpWasm } from './decode/webp.js';
export { initJpeg, setJpegWasm, jpegReady } from './decode/jpeg.js';

export { INTERPOLATIONS, PIL_RESAMPLE, type Interpolation } from './resize/filters.js';
export { axisCoefficients, PRECISION_BITS, type AxisCoefficients } from './resize/coefficients.js';
export { resize, type ResizeOptions, type ResizePrecision } from './resize/resize.js';
export { resizeTensor } from './resize/resize_tf.js';

export { NORMALIZATION, normalization, type NormalizationName, type PreprocessSpec, type ResizeSpec, type CropSpec } from './spec.js';
export { validateSpec } from './validate.js';
export { resizedSize, cropPlan, roundHalfEven, type CropPlan } from './geometry.js';
export { planFor, type Plan } from './plan.js';
export { normalizePixels, denormalizePixels } from './normalize.js';
export { preprocess, preprocessBatch, prepareGeometry, type PipelineOptions } from './pipeline.js';
export { preprocessTensor, preprocessBatchTensor } from './pipeline_tf.js';
export { presetSpec, isPreprocessPresetName, PREPROCESS_PRESET_NAMES, type PreprocessPresetName, type PresetOptions } from './presets.js';
export { specFromConfig, specFromHfConfig, specFromTimmConfig, detectConfigKind } from './config.js';
export { configFromSpec } from './config_write.js';
export { loadImageForModel, resolveSpec, readBytes, type LoadImageOptions } from './load.js';

export { augment, augmentForModel, type AugmentOptions } from './augment/augment.js';
export { autoAugment, policyOps, type AutoAugmentPolicy } from './augment/auto_augment.js';
export { randomResizedCropBox, resizedCrop, flipHorizontal, type CropBox } from './augment/crop.js';
export { mixupCutmix, type MixupOptions, type MixupResult } from './augment/mixup.js';
export { beta as sampleBeta } from './augment/sampling.js';
