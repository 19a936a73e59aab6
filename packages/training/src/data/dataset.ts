import { DataError } from '../errors.js';

/** Per-channel normalization applied to uint8 images after scaling them to [0, 1]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * A labelled image set held in memory, NHWC. uint8 images are scaled to
 * [0, 1] and normalized with `normalization` when batched; float32 images
 * are taken as already preprocessed and used as they are.
 */
export interface ImageDataset {
  /** A short description for logs ("fashion-mnist train"). */
  name: string;
  images: Uint8Array | Float32Array;
  /** [count, height, width, channels]. */
  shape: [number, number, number, number];
  labels: Int32Array;
  numClasses: number;
  classNames?: string[];
  normalization?: Normalization;
}

/** A training set and, when the source has one, its official test set. */
export interface DatasetSplits {
  train: ImageDataset;
  test?: ImageDataset;
}

/** Checks that images, shape and labels agree and labels are in range. */
export function validateDataset(d: ImageDataset): void {
  const [n, h, w, c] = d.shape;
  if (![n, h, w, c].every((v) => Number.isInteger(v) && v >= 0) || h === 0 || w === 0 || c === 0) {
    throw new DataError(`${d.name}: invalid image shape [${d.shape.join(', ')}]`);
  }
  if (d.images.length !== n * h * w * c) {
    throw new DataError(`${d.name}: ${d.images.length} pixel values do not fill [${d.shape.join(', ')}]`, 'the file may be truncated');
  }
  if (d.images instanceof Float32Array) {
    for (let i = 0; i < d.images.length; i++) {
      const v = d.images[i]!;
      if (v - v !== 0) {
        throw new DataError(`${d.name}: pixel value ${v} in sample ${Math.floor(i / (h * w * c))}`, 'images must be finite numbers; clean or re-export the data');
      }
    }
  }
  if (d.labels.length !== n) throw new DataError(`${d.name}: ${n} images but ${d.labels.length} labels`, 'images and labels must come in pairs');
  if (!Number.isInteger(d.numClasses) || d.numClasses < 1) throw new DataError(`${d.name}: numClasses must be >= 1, got ${d.numClasses}`);
  for (let i = 0; i < n; i++) {
    const y = d.labels[i]!;
    if (y < 0 || y >= d.numClasses) {
      throw new DataError(`${d.name}: label ${y} of sample ${i} is outside [0, ${d.numClasses})`, 'check the labels file or pass --num-classes');
    }
  }
  if (d.normalization && (d.normalization.mean.length !== c || d.normalization.std.length !== c)) {
    throw new DataError(`${d.name}: normalization needs ${c} means and stds`);
  }
}

/** The samples at `indices`, copied into a new dataset. */
export function subset(d: ImageDataset, indices: readonly number[], name = d.name): ImageDataset {
  const [, h, w, c] = d.shape;
  const per = h * w * c;
  const images = d.images instanceof Uint8Array ? new Uint8Array(indices.length * per) : new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  indices.forEach((idx, i) => {
    images.set(d.images.subarray(idx * per, (idx + 1) * per), i * per);
    labels[i] = d.labels[idx]!;
  });
  return { ...d, name, images, labels, shape: [indices.length, h, w, c] };
}

/** The number of samples of each class (to check balance and report). */
export function classCounts(d: ImageDataset): number[] {
  const counts = new Array<number>(d.numClasses).fill(0);
  for (const y of d.labels) counts[y] = (counts[y] ?? 0) + 1;
  return counts;
}

/**
 * The largest label + 1, the class count implied by a label array, or the
 * given count when it is larger (a subset may lack the last classes).
 */
export function inferNumClasses(labels: Int32Array, atLeast = 0): number {
  let max = -1;
  for (const y of labels) if (y > max) max = y;
  return Math.max(max + 1, atLeast);
}

/**
 * Refuses a class count inferred from labels (no class names, no count given)
 * that cannot be meant, before it becomes a classifier's width: one where most
 * classes have no sample (one stray label of 1,000,000 would build a
 * 1,000,001-class model), or a single class (nothing to tell apart).
 */
export function checkInferredClassCount(d: Pick<ImageDataset, 'name' | 'labels' | 'numClasses'>): void {
  const seen = new Set<number>(d.labels);
  if (d.numClasses === 1) {
    throw new DataError(`${d.name}: every label is 0, one class; a classifier needs at least two`, 'add samples of the other classes, or pass --num-classes with the full count');
  }
  if (seen.size * 2 < d.numClasses) {
    throw new DataError(
      `${d.name}: labels go up to ${d.numClasses - 1}, so the model would have ${d.numClasses} classes, but only ${seen.size} of them have samples`,
      'pass --num-classes with the real class count, or fix the stray labels',
    );
  }
}
