import { basename, join } from 'node:path';
import { parseNpy, VitkitError } from '@vitkit/core';
import { DataError } from '../errors.js';
import type { DatasetSplits, ImageDataset } from './dataset.js';
import { inferNumClasses, validateDataset } from './dataset.js';
import { findFile, isDirectory, readBytes } from './files.js';

const IMAGES = ['input_nhwc.npy', 'images.npy'];
const LABELS = ['labels.npy'];

export function looksLikeNpyPairDir(dir: string): boolean {
  return findFile(dir, IMAGES) !== undefined || (isDirectory(join(dir, 'train')) && findFile(join(dir, 'train'), IMAGES) !== undefined);
}

function readNpy(path: string): ReturnType<typeof parseNpy> {
  try {
    return parseNpy(readBytes(path));
  } catch (e) {
    if (e instanceof VitkitError && !(e instanceof DataError)) throw new DataError(`${path}: ${e.reason}`, e.hint, { cause: e });
    throw e;
  }
}

/**
 * Loads `input_nhwc.npy` ([N, H, W, C]; float32 taken as preprocessed, uint8
 * as raw pixels) and `labels.npy` ([N] integers) from one directory.
 */
export function loadNpyPair(dir: string, options: { name?: string; numClasses?: number } = {}): ImageDataset {
  const imagesPath = findFile(dir, IMAGES);
  const labelsPath = findFile(dir, LABELS);
  if (!imagesPath || !labelsPath) throw new DataError(`${dir} needs input_nhwc.npy and labels.npy`, 'save images as [N, H, W, C] and labels as [N] with numpy.save');
  const x = readNpy(imagesPath);
  const y = readNpy(labelsPath);
  if (x.shape.length !== 4) throw new DataError(`${imagesPath}: images must be [N, H, W, C], got [${x.shape.join(', ')}]`);
  if (x.dtype === 'int32') throw new DataError(`${imagesPath}: images must be float32 or uint8, got int32`);
  if (y.shape.length !== 1 || y.dtype === 'float32') {
    throw new DataError(`${labelsPath}: labels must be a 1-D integer array, got ${y.dtype} [${y.shape.join(', ')}]`);
  }
  const labels = Int32Array.from(y.data as ArrayLike<number>);
  const ds: ImageDataset = {
    name: options.name ?? basename(dir),
    images: x.data as Float32Array | Uint8Array,
    shape: x.shape as [number, number, number, number],
    labels,
    numClasses: options.numClasses ?? inferNumClasses(labels),
  };
  validateDataset(ds);
  return ds;
}

/** A directory with the pair itself (training only), or with train/ and test/ subdirectories holding pairs. */
export function loadNpyPairDir(dir: string, options: { numClasses?: number } = {}): DatasetSplits {
  const name = basename(dir);
  if (findFile(dir, IMAGES)) return { train: loadNpyPair(dir, { ...options, name: `${name} train` }) };
  const train = loadNpyPair(join(dir, 'train'), { ...options, name: `${name} train` });
  const testDir = join(dir, 'test');
  if (!isDirectory(testDir) || !findFile(testDir, IMAGES)) return { train };
  const test = loadNpyPair(testDir, { numClasses: options.numClasses ?? train.numClasses, name: `${name} test` });
  return { train, test };
}
