/**
 * The messages between the page and the inference worker. Every request
 * carries an id; the worker answers with zero or more `progress` replies and
 * then exactly one final reply (`ready`, `loaded`, `result`, `compared` or
 * `error`) with the same id. Requests run one at a time, in the order they
 * were sent; handler.ts has one handler per request type.
 */
import type { HeadKind } from '@vitkit/tasks';

/** Backends the page offers; `auto` takes the best that works here. */
export const BACKEND_PICKS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendPick = (typeof BACKEND_PICKS)[number];

/** Where a model comes from. */
export type ModelSource =
  /**
   * A checkpoint URL (absolute http(s), or hf://org/repo[@rev][/file]). A
   * config.json and preprocessor_config.json next to it are used when there;
   * `cache: false` skips the Cache API (the page's own files).
   */
  | { kind: 'url'; url: string; name?: string; cache?: boolean; /** Hub mirror for hf:// (default huggingface.co). */ endpoint?: string }
  /** Files the user picked or dropped (or a dropped folder's files): one .safetensors/.npz with its JSON files. */
  | { kind: 'files'; files: File[] };

/** How images are turned into model inputs. */
export interface PreprocessOptions {
  /** A key of PREPROCESS_CHOICES, or 'model' for what the model's files say. */
  preset: string;
  /** Use 1 - x on 8-bit pixels first (light-on-dark datasets such as Fashion-MNIST). */
  invert: boolean;
}

export type InputPayload =
  /** An encoded image (PNG, JPEG, ...) or a .npy array, told apart by content. */
  | { kind: 'file'; blob: Blob; name: string }
  /** A decoded frame (webcam); transferred to the worker. */
  | { kind: 'bitmap'; bitmap: ImageBitmap; name: string };

export type Request =
  | { id: number; type: 'init'; backend: BackendPick }
  | { id: number; type: 'load'; source: ModelSource }
  | { id: number; type: 'classify'; input: InputPayload; preprocess: PreprocessOptions }
  /** Embeds several images (files, not .npy) with the loaded model and compares every pair. */
  | { id: number; type: 'compare'; inputs: InputPayload[]; preprocess: PreprocessOptions };

export interface BackendInfo {
  /** The backend in use. */
  name: string;
  /** Backends `auto` tried first and why each could not be used. */
  skipped: { name: string; reason: string }[];
  /** Extra detail (wasm threads and SIMD). */
  detail?: string;
}

export interface ModelInfo {
  name: string;
  /** Where the weights came from, for display. */
  source: string;
  imageSize: [number, number];
  patchSize: number;
  inChannels: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  numClasses: number;
  /** What the head is: classes, CLIP's projection to image embeddings, or none (features). */
  head: HeadKind;
  /** Width of the embeddings compare mode uses (the projection's width for CLIP with visual_projection). */
  embeddingDim: number;
  numParams: number;
  labels: string[];
  /** Where the model's own preprocessing comes from ("preprocessor_config.json", or a default). */
  preprocess: string;
  /** True when the checkpoint came from the browser's cache without a download. */
  fromCache: boolean;
  loadMs: number;
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

export interface AttentionMaps {
  /** Patch grid [rows, cols]. */
  grid: [number, number];
  depth: number;
  heads: number;
  /** 'cls': the class token's attention to each patch; 'mean': the mean attention each patch receives. */
  query: 'cls' | 'mean';
  /** Per layer and head, one value per patch: [depth, heads, rows * cols], row-major. */
  perHead: Float32Array;
  /** Attention rollout (Abnar & Zuidema 2020) from the output back to the patches: [rows * cols]. */
  rollout: Float32Array;
  /** False when this model's attention cannot be drawn as a map (perHead and rollout are then empty). */
  available: boolean;
  /** Shown beside the map: what it means for this model (MAP pooling), or why there is none. */
  note?: string;
}

/** A model without classifier (numClasses 0) returns one embedding per image; a summary of the first. */
export interface EmbeddingSummary {
  /** Values in the vector (the model's embedDim). */
  dim: number;
  /** Euclidean norm. */
  norm: number;
  /** The first values, for a glance. */
  first: number[];
}

export interface ClassifyResult {
  /** Images in the input (a .npy may hold a batch; the page shows the first). */
  batch: number;
  /** Raw classifier outputs, one row per image (embeddings for a model without classifier). */
  logits: number[][];
  /** The five most likely classes of the first image; empty for a model without classifier. */
  top: Prediction[];
  /** For a model without classifier (numClasses 0): its embedding of the first image (the rows of `logits`). */
  embedding?: EmbeddingSummary;
  /** Milliseconds for the forward pass, input upload to logits read back. */
  latencyMs: number;
  backend: string;
  attention: AttentionMaps;
  /** What the model saw (first image), as displayable RGBA at the model's resolution. */
  view: { width: number; height: number; rgba: Uint8ClampedArray };
  /** How the input was interpreted ("image 800x600 → 224x224, hf preset" or "npy [2, 32, 32, 3]"). */
  inputSummary: string;
  /** tf.memory().numTensors in the worker once this run's tensors are freed (steady across runs: no leak). */
  tensorsInMemory: number;
}

export interface CompareResult {
  /** The images' names, in the order given. */
  names: string[];
  /** Cosine similarity of every pair of embeddings: symmetric, 1 on the diagonal. */
  matrix: number[][];
  /** For each image, the most similar other one (index into names) and their similarity. */
  neighbours: { index: number; similarity: number }[];
  /** Width of each embedding. */
  dim: number;
  /** What was compared ("projected image embeddings (CLIP visual_projection)" or "pooled features"). */
  embedding: string;
  /** The embeddings themselves, one row per image (unit length), for tests and curious users. */
  embeddings: number[][];
  /** Milliseconds to decode, preprocess and embed every image. */
  latencyMs: number;
  backend: string;
  /** tf.memory().numTensors in the worker once this run's tensors are freed. */
  tensorsInMemory: number;
}

export interface SerializedError {
  code: string;
  reason: string;
  hint?: string;
}

export type Reply =
  | { id: number; type: 'ready'; backend: BackendInfo }
  | { id: number; type: 'progress'; loaded: number; total?: number; what: string }
  | { id: number; type: 'loaded'; model: ModelInfo }
  | { id: number; type: 'result'; result: ClassifyResult }
  | { id: number; type: 'compared'; result: CompareResult }
  | { id: number; type: 'error'; error: SerializedError };
