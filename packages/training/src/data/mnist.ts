import { basename } from 'node:path';
import { DataError } from '../errors.js';
import type { DatasetSplits, ImageDataset, Normalization } from './dataset.js';
import { inferNumClasses, validateDataset } from './dataset.js';
import { findFile } from './files.js';
import { readIdx } from './idx.js';

/** Fashion-MNIST's class names, index-aligned with its labels. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Mean and std of the Fashion-MNIST training pixels (scaled to [0, 1]). */
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };
/** Mean and std of the MNIST training pixels (scaled to [0, 1]). */
export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };

/** The four file names of an MNIST-style set, with the spellings found in the wild. */
function candidates(split: 'train' | 't10k', kind: 'images' | 'labels'): string[] {
  const rank = kind === 'images' ? 3 : 1;
  const stems = [`${split}-${kind}-idx${rank}-ubyte`, `${split}-${kind}.idx${rank}-ubyte`];
  return stems.flatMap((s) => [`${s}.gz`, s]);
}

export interface IdxPairOptions {
  name: string;
  numClasses?: number;
  classNames?: string[];
  normalization?: Normalization;
}

/** Reads an images file [N, H, W] (or [N, H, W, C]) and a labels file [N] into a dataset. */
export function loadIdxPair(imagesPath: string, labelsPath: string, options: IdxPairOptions): ImageDataset {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (!(images.data instanceof Uint8Array)) throw new DataError(`${imagesPath}: images must be unsigned bytes`);
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw new DataError(`${imagesPath}: images must be [N, H, W] or [N, H, W, C], got [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1) throw new DataError(`${labelsPath}: labels must be one-dimensional, got [${labels.shape.join(', ')}]`);
  const [n, h, w, c = 1] = images.shape as [number, number, number, number?];
  const y = Int32Array.from(labels.data as ArrayLike<number>);
  const ds: ImageDataset = {
    name: options.name,
    images: images.data,
    shape: [n, h, w, c],
    labels: y,
    numClasses: options.numClasses ?? inferNumClasses(y),
    ...(options.classNames ? { classNames: options.classNames } : {}),
    ...(options.normalization ? { normalization: options.normalization } : {}),
  };
  validateDataset(ds);
  return ds;
}

/** True when `dir` holds MNIST-style training files. */
export function looksLikeMnistDir(dir: string): boolean {
  return findFile(dir, candidates('train', 'images')) !== undefined || findFile(dir, candidates('t10k', 'images')) !== undefined;
}

export interface MnistDirOptions {
  /** Display name; defaults to the directory name. */
  name?: string;
  numClasses?: number;
  classNames?: string[];
  normalization?: Normalization;
}

/**
 * Loads an MNIST-style directory: `train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]` and, when present, the `t10k-*` test files.
 */
export function loadMnistDir(dir: string, options: MnistDirOptions = {}): DatasetSplits {
  const name = options.name ?? basename(dir);
  const trainImages = findFile(dir, candidates('train', 'images'));
  const trainLabels = findFile(dir, candidates('train', 'labels'));
  if (!trainImages || !trainLabels) {
    throw new DataError(`${dir} has no train-images-idx3-ubyte(.gz) / train-labels-idx1-ubyte(.gz)`, 'point --data at a directory with the MNIST-format files');
  }
  const base = { numClasses: options.numClasses, classNames: options.classNames, normalization: options.normalization };
  const train = loadIdxPair(trainImages, trainLabels, { ...base, name: `${name} train` });
  const testImages = findFile(dir, candidates('t10k', 'images'));
  const testLabels = findFile(dir, candidates('t10k', 'labels'));
  if (!testImages || !testLabels) return { train };
  const test = loadIdxPair(testImages, testLabels, { ...base, name: `${name} test`, numClasses: options.numClasses ?? train.numClasses });
  return { train, test };
}
