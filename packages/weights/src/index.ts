// Checkpoint I/O for vitkit: formats (safetensors, sharded safetensors, npz),
// conventions (timm, Hugging Face, torchvision, JAX), sources (files, URLs,
// the Hugging Face Hub with a cache), and loading into timm-named state dicts.
export * from './errors.js';
export { type RawData, type RawTensor, type RawTensors, numel, transposeRaw, reshapeRaw } from './raw_tensor.js';
export { SAFETENSORS_DTYPES, type SafetensorsDtype, type FloatStorage, f16ToNumber, numberToF16, numberToBF16, decodeF16, decodeBF16 } from './dtypes.js';
export {
  parseSafetensors,
  parseSafetensorsHeader,
  serializeSafetensors,
  safetensorsParts,
  MAX_HEADER_BYTES,
  type ParsedSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SerializeOptions,
  type SafetensorsParts,
} from './safetensors.js';
export { readSafetensorsFile, writeSafetensorsFile } from './safetensors_file.js';
export { parseShardIndex, mergeShards, SHARD_INDEX_FILE, type ShardIndex } from './sharded.js';
export { parseNpz, serializeNpz, parseNpyAnyOrder } from './npz.js';
export { readZip, writeZip, DEFAULT_MAX_ENTRY_BYTES, type ZipEntry, type WriteZipOptions, type ReadZipOptions } from './zip.js';
export { CONVENTIONS, type Convention, isConvention, detectConvention } from './conventions/convention.js';
export { convertToTimm, convertFromTimm, numHeadsFromJax, type ConversionResult } from './conventions/convert.js';
export type { ConversionContext } from './conventions/rules.js';
export { inferConfig, type InferConfigOptions } from './infer_config.js';
export { configFromHF, configToHF, configInputFromJson, type HFConfigJson } from './hf_config.js';
export { timmShapes, checkTimmTensors } from './timm_layout.js';
export { toStateDict, fromStateDict } from './state_dict.js';
export { freshHead } from './head.js';
export { fetchBytes, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_IDLE_TIMEOUT_MS, type Progress, type ProgressCallback, type FetchOptions } from './sources/fetch.js';
export { directoryCache, browserCache, defaultCacheDir, resolveCache, type WeightsCache, type CacheOption } from './sources/cache.js';
export { parseHubRef, hubEndpoint, DEFAULT_HF_ENDPOINT, type HubRef } from './sources/hub.js';
export { readCheckpoint, type CheckpointSource, type ReadOptions, type RawCheckpoint, type CheckpointFormat } from './sources/read.js';
export {
  loadCheckpoint,
  prepareCheckpoint,
  resolveNumHeads,
  type HeadMode,
  type LoadOptions,
  type PrepareOptions,
  type PreparedCheckpoint,
  type LoadedCheckpoint,
} from './load_checkpoint.js';
export { saveCheckpoint, type SaveOptions, type SaveResult } from './save_checkpoint.js';
export { writeFileAtomic } from './node.js';
