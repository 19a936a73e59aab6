import type { ViTConfig } from './config.js';
import { ConfigError } from './errors.js';

// What the backends can address, and the architecture sizes that follow.
//
// Every size in a ViTConfig becomes an allocation: tokens per image make the
// attention matrix [batch, heads, tokens, tokens], widths make the weights
// [embedDim, mlpDim] and the activations [batch, tokens, mlpDim], classes make
// the head [embedDim, numClasses]. The wasm backend is 32-bit: its heap is at
// most 4 GiB, and a tensor is indexed by signed 32-bit byte offsets, so one
// float32 tensor holds at most 2 GiB / 4 bytes = 2^29 elements (tfjs-node and
// the CPU backend are bounded by V8's typed arrays, which are no larger).
// Beyond that the wasm backend dies with "memory access out of bounds" (or
// grows memory without end), so sizes are refused before anything is built.
// The bounds are for a batch of one image: a larger batch multiplies the
// activations, and the bounds below are necessary, not sufficient.

/** Elements of the largest float32 tensor a backend can hold (2 GiB / 4 bytes). */
export const MAX_TENSOR_ELEMENTS = 2 ** 29;

/** Tokens per image: one head's attention matrix [tokens, tokens] at batch 1 must fit one tensor (sqrt(2^29)). */
export const MAX_TOKENS = Math.floor(Math.sqrt(MAX_TENSOR_ELEMENTS));

/** Image side in pixels: an RGB image [1, side, side, 3] must fit one tensor. */
export const MAX_IMAGE_SIDE = Math.floor(Math.sqrt(MAX_TENSOR_ELEMENTS / 3));

/** Token width: the fused query/key/value weight [embedDim, 3 * embedDim] must fit one tensor. */
export const MAX_EMBED_DIM = Math.floor(Math.sqrt(MAX_TENSOR_ELEMENTS / 3));

/** Classifier outputs: the head [embedDim, numClasses] must fit one tensor even at the smallest width (8). */
export const MAX_CLASSES = MAX_TENSOR_ELEMENTS / 8;

/**
 * Weights of a whole model: they share one heap, and a 32-bit wasm heap is
 * at most 4 GiB = 2^30 float32 values (ViT-H has 632 M, ViT-g 1.0 G).
 */
export const MAX_PARAMETERS = 2 ** 30;

/**
 * Encoder blocks: bounded by MAX_PARAMETERS together with the widths; depth
 * itself is capped where even the smallest block (two LayerNorms, qkv, proj,
 * fc1, fc2: 12 tensors) makes the backend track more tensors than any real
 * model (ViT-22B has 48 blocks).
 */
export const MAX_DEPTH = 1024;

/** The sizes of a config that limits.ts bounds. */
export type SizedConfig = Pick<ViTConfig, 'imageSize' | 'patchSize' | 'inChannels' | 'embedDim' | 'depth' | 'numHeads' | 'mlpDim' | 'numClasses' | 'classToken' | 'numRegisterTokens'> &
  Partial<Pick<ViTConfig, 'distilled'>>;

function refuse(reason: string, hint: string): never {
  throw new ConfigError(reason, hint);
}

/**
 * Refuses an architecture whose tensors the backends cannot address (see
 * the comment above); each message names the limit. Called by validateConfig.
 */
export function checkSizeLimits(c: SizedConfig): void {
  const [h, w] = c.imageSize;
  if (Math.max(h, w) > MAX_IMAGE_SIDE || h * w * c.inChannels > MAX_TENSOR_ELEMENTS) {
    refuse(`image size ${h}x${w} with ${c.inChannels} channels is larger than the backends can hold (${MAX_TENSOR_ELEMENTS} values per tensor, sides up to ${MAX_IMAGE_SIDE})`, 'use a smaller image size');
  }
  const tokens = (c.classToken ? 1 : 0) + (c.distilled ? 1 : 0) + c.numRegisterTokens + (h / c.patchSize) * (w / c.patchSize);
  if (tokens > MAX_TOKENS || c.numHeads * tokens * tokens > MAX_TENSOR_ELEMENTS) {
    refuse(
      `image size ${h}x${w} at patch size ${c.patchSize} makes ${tokens} tokens per image; attention over ${c.numHeads} heads can address at most ${Math.min(MAX_TOKENS, Math.floor(Math.sqrt(MAX_TENSOR_ELEMENTS / c.numHeads)))}`,
      'use a smaller image size or a larger patch size',
    );
  }
  if (c.embedDim > MAX_EMBED_DIM) refuse(`embedding width ${c.embedDim} is above the limit of ${MAX_EMBED_DIM} (the qkv weight [width, 3 x width] must fit one tensor)`, 'use a smaller embedDim');
  if (c.embedDim * c.mlpDim > MAX_TENSOR_ELEMENTS || tokens * c.mlpDim > MAX_TENSOR_ELEMENTS) {
    refuse(`MLP width ${c.mlpDim} at embedding width ${c.embedDim} and ${tokens} tokens is above the limit of ${MAX_TENSOR_ELEMENTS} values per tensor`, 'use a smaller mlpDim');
  }
  if (c.depth > MAX_DEPTH) refuse(`depth ${c.depth} is above the limit of ${MAX_DEPTH} blocks`, 'use fewer blocks');
  if (c.numClasses > MAX_CLASSES || c.embedDim * c.numClasses > MAX_TENSOR_ELEMENTS) {
    refuse(
      `${c.numClasses} classes at embedding width ${c.embedDim} is above the limit of ${Math.min(MAX_CLASSES, Math.floor(MAX_TENSOR_ELEMENTS / c.embedDim))} (the head [width, classes] must fit one tensor)`,
      'use fewer classes',
    );
  }
  const perBlock = 3 * c.embedDim * c.embedDim + c.embedDim * c.embedDim + 2 * c.embedDim * c.mlpDim;
  const params = c.depth * perBlock + c.embedDim * c.numClasses + tokens * c.embedDim + c.patchSize * c.patchSize * c.inChannels * c.embedDim;
  if (params > MAX_PARAMETERS) {
    refuse(`the model would have about ${params} weights, more than the ${MAX_PARAMETERS} (4 GiB of float32) a backend can hold`, 'use fewer blocks or smaller widths');
  }
}
