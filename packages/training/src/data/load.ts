import { existsSync, statSync } from 'node:fs';
import type { PreprocessSpec } from '@vitkit/preprocessing';
import { basename, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { CIFAR10_CLASSES, looksLikeCifar10Dir, loadCifar10Dir, parseCifar10 } from './cifar.js';
import type { DatasetSplits } from './dataset.js';
import { loadFashionMnist, type FashionMnistOptions } from './fashion_mnist.js';
import { readBytes } from './files.js';
import { imageFolderClassNames, looksLikeImageFolder, loadImageFolder, type ImageFolderOptions } from './image_folder.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_NORMALIZATION, loadMnistDir, looksLikeMnistDir } from './mnist.js';
import { looksLikeNpyPairDir, loadNpyPairDir } from './npy_pair.js';

/** The kinds of data source `loadDataset` understands. */
export type DatasetKind = 'fashion-mnist' | 'idx' | 'cifar10' | 'npy' | 'image-folder';

export interface LoadDatasetOptions {
  /** Force the class count (labels must be below it). */
  numClasses?: number;
  /** For image folders: the size images are resized to (usually the model's). */
  imageSize?: [number, number];
  /** For image folders: decoded channel count (default 3; 1 takes the luma). */
  channels?: number;
  /** For image folders: the model's own preprocessing (geometry, rescale, mean/std), instead of imageSize and ImageNet normalization. */
  preprocess?: PreprocessSpec;
  fashionMnist?: FashionMnistOptions;
  /** Told about files that are skipped (ImageFolder: formats the decoders cannot read). */
  onWarning?: (message: string) => void;
}

export interface LoadedDataset extends DatasetSplits {
  kind: DatasetKind;
  /** Where the data came from (resolved path, or the dataset name). */
  source: string;
}

/** Which loader a directory needs, judged by the files in it. */
export function detectDatasetKind(dir: string): DatasetKind | undefined {
  if (looksLikeMnistDir(dir)) return 'idx';
  if (looksLikeCifar10Dir(dir)) return 'cifar10';
  if (looksLikeNpyPairDir(dir)) return 'npy';
  if (looksLikeImageFolder(dir)) return 'image-folder';
  return undefined;
}

/**
 * Loads a dataset from a spec: `fashion-mnist` (found locally or downloaded),
 * or a path to an MNIST-style IDX directory, a CIFAR-10 binary directory (or
 * one `.bin` batch), a directory with `input_nhwc.npy` + `labels.npy`, or an
 * ImageFolder directory (one subfolder of JPEG/PNG images per class, or
 * `train/` and `val/`/`test/` folders of those).
 */
export async function loadDataset(spec: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  if (spec === 'fashion-mnist') {
    const splits = await loadFashionMnist(options.fashionMnist);
    return { ...splits, kind: 'fashion-mnist', source: 'fashion-mnist' };
  }
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw new DataError(`no dataset at ${path}`, 'pass fashion-mnist, or a directory with IDX, CIFAR-10 binary, npy or ImageFolder data');
  }
  if (statSync(path).isFile()) {
    if (path.endsWith('.bin')) return { train: parseCifar10([readBytes(path)], basename(path), CIFAR10_CLASSES), kind: 'cifar10', source: path };
    throw new DataError(`${path} is a file; --data wants a directory (or one CIFAR-10 .bin batch)`, 'point at the directory that holds the dataset files');
  }
  const kind = detectDatasetKind(path);
  switch (kind) {
    case 'idx': {
      // A Fashion-MNIST copy (or subset) gets its class names and normalization.
      const fashion = /fashion/i.test(path);
      const splits = loadMnistDir(path, {
        ...(options.numClasses ? { numClasses: options.numClasses } : {}),
        ...(fashion ? { classNames: FASHION_MNIST_CLASSES, normalization: FASHION_MNIST_NORMALIZATION, numClasses: options.numClasses ?? 10 } : {}),
      });
      if (!fashion) withComputedNormalization(splits);
      return { ...splits, kind, source: path };
    }
    case 'cifar10':
      return { ...loadCifar10Dir(path), kind, source: path };
    case 'npy':
      return { ...loadNpyPairDir(path, options.numClasses ? { numClasses: options.numClasses } : {}), kind, source: path };
    case 'image-folder': {
      const folderOptions: ImageFolderOptions = {};
      if (options.imageSize) folderOptions.imageSize = options.imageSize;
      if (options.channels) folderOptions.channels = options.channels;
      if (options.preprocess) folderOptions.preprocess = options.preprocess;
      if (options.onWarning) folderOptions.onWarning = options.onWarning;
      return { ...(await loadImageFolder(path, folderOptions)), kind, source: path };
    }
    default:
      throw new DataError(
        `cannot tell what dataset ${path} holds`,
        'expected train-images-idx3-ubyte(.gz), data_batch_*.bin, input_nhwc.npy + labels.npy, or class subfolders of images',
      );
  }
}

/** The class names an ImageFolder `spec` holds (its class folders), read without decoding; undefined for other kinds of data. */
export function datasetClassNames(spec: string): string[] | undefined {
  if (spec === 'fashion-mnist') return undefined;
  const path = resolve(spec);
  if (!existsSync(path) || !statSync(path).isDirectory() || detectDatasetKind(path) !== 'image-folder') return undefined;
  return imageFolderClassNames(path);
}

/** Gives uint8 splits without a normalization the per-channel mean/std of their training images. */
function withComputedNormalization(splits: DatasetSplits): void {
  const { train } = splits;
  if (train.normalization || !(train.images instanceof Uint8Array)) return;
  const c = train.shape[3];
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  train.images.forEach((v, i) => {
    const ch = i % c;
    sum[ch]! += v / 255;
    sq[ch]! += (v / 255) ** 2;
  });
  const n = train.images.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(1e-12, s / n - mean[ch]! ** 2)));
  train.normalization = { mean, std };
  if (splits.test) splits.test.normalization = { mean, std };
}
