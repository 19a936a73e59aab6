import { nearestNeighbours, similarityMatrix, type ImageEmbedder } from '@vitkit/tasks';
import { InputError } from './errors.js';
import { invertPixels, readInput } from './inputs.js';
import { preprocessOption } from './predict.js';
import type { CompareResult, InputPayload, PreprocessOptions } from './protocol.js';

/** Enough to see a pattern, few enough that the grid stays readable and the batch small. */
export const MAX_COMPARE = 16;

/**
 * Embeds every image in one batch with the task layer (unit-length vectors), then compares every
 * pair by cosine similarity and finds each image's nearest neighbour.
 */
export async function compareImages(embedder: ImageEmbedder, inputs: readonly InputPayload[], pre: PreprocessOptions, backend: string): Promise<Omit<CompareResult, 'tensorsInMemory'>> {
  if (inputs.length < 2) throw new InputError(`compare needs at least two images, got ${inputs.length}`, 'drop or pick two or more images');
  if (inputs.length > MAX_COMPARE) throw new InputError(`compare takes at most ${MAX_COMPARE} images, got ${inputs.length}`, `pick ${MAX_COMPARE} or fewer`);
  const start = performance.now();
  const images = [];
  for (const payload of inputs) {
    const input = await readInput(payload);
    if (input.kind !== 'image') throw new InputError(`"${input.name}" is a .npy array; compare mode takes images`, 'drop image files (PNG, JPEG, ...)');
    images.push(pre.invert ? invertPixels(input.image) : input.image);
  }
  const option = preprocessOption(embedder, pre);
  const embeddings = await embedder.embed(images, { normalize: true, ...(option === undefined ? {} : { preprocess: option }) });
  const matrix = similarityMatrix(embeddings);
  return {
    names: inputs.map((p) => p.name),
    matrix,
    neighbours: nearestNeighbours(matrix),
    dim: embeddings[0]!.length,
    embedding: embedder.projects ? 'projected image embeddings (CLIP visual_projection)' : 'pooled features (the pre-logits)',
    embeddings: embeddings.map((v) => Array.from(v)),
    latencyMs: performance.now() - start,
    backend,
  };
}
