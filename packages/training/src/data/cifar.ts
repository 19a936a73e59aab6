import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError } from '../errors.js';
import type { DatasetSplits, ImageDataset, Normalization } from './dataset.js';
import { validateDataset } from './dataset.js';
import { findFile, isDirectory, readBytes } from './files.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/**
 * Parses CIFAR-10 binary records (1 label byte, then 1024 red, 1024 green,
 * 1024 blue bytes, each plane row-major) into NHWC uint8 images.
 */
export function parseCifar10(chunks: readonly Uint8Array[], name: string, classNames = CIFAR10_CLASSES): ImageDataset {
  let count = 0;
  for (const c of chunks) {
    if (c.length % RECORD !== 0) throw new DataError(`${name}: ${c.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records`, 'use the "binary version" files (data_batch_*.bin)');
    count += c.length / RECORD;
  }
  const images = new Uint8Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  let i = 0;
  for (const chunk of chunks) {
    for (let off = 0; off < chunk.length; off += RECORD, i++) {
      labels[i] = chunk[off]!;
      const dst = i * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        images[dst + 3 * p] = chunk[off + 1 + p]!;
        images[dst + 3 * p + 1] = chunk[off + 1 + PLANE + p]!;
        images[dst + 3 * p + 2] = chunk[off + 1 + 2 * PLANE + p]!;
      }
    }
  }
  const ds: ImageDataset = {
    name,
    images,
    shape: [count, SIDE, SIDE, 3],
    labels,
    numClasses: classNames.length,
    classNames,
    normalization: CIFAR10_NORMALIZATION,
  };
  validateDataset(ds);
  return ds;
}

/** The directory holding data_batch_*.bin: `dir` itself or its `cifar-10-batches-bin` child. */
function batchesDir(dir: string): string | undefined {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin')]) {
    if (isDirectory(d) && findFile(d, ['data_batch_1.bin', 'test_batch.bin'])) return d;
  }
  return undefined;
}

export function looksLikeCifar10Dir(dir: string): boolean {
  return batchesDir(dir) !== undefined;
}

/** Loads the CIFAR-10 binary version: data_batch_1..5.bin for training, test_batch.bin for testing. */
export function loadCifar10Dir(dir: string): DatasetSplits {
  const d = batchesDir(dir);
  if (!d) throw new DataError(`${dir} has no CIFAR-10 binary batches (data_batch_1.bin ...)`, 'download and extract cifar-10-binary.tar.gz');
  const files = readdirSync(d).filter((f) => /^data_batch_\d+\.bin$/.test(f)).sort();
  if (files.length === 0) throw new DataError(`${d} has test_batch.bin but no data_batch_*.bin`);
  const metaPath = findFile(d, ['batches.meta.txt']);
  const classNames = metaPath
    ? new TextDecoder().decode(readBytes(metaPath)).split('\n').map((s) => s.trim()).filter((s) => s.length > 0)
    : CIFAR10_CLASSES;
  const name = basename(dir);
  const train = parseCifar10(files.map((f) => readBytes(join(d, f))), `${name} train`, classNames);
  const testPath = findFile(d, ['test_batch.bin']);
  return testPath ? { train, test: parseCifar10([readBytes(testPath)], `${name} test`, classNames) } : { train };
}
