import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodeImage, prepareGeometry, type PreprocessSpec } from '@vitkit/preprocessing';
import { isVitkitError } from '@vitkit/core';
import { DataError } from '../errors.js';
import type { DatasetSplits, ImageDataset } from './dataset.js';
import { validateDataset } from './dataset.js';
import { isDirectory, readBytes } from './files.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.gif', '.webp']);
/** Images the decoders cannot read: skipped with a warning rather than listed and failed on. */
const UNDECODED_EXTENSIONS = new Set(['.bmp', '.tif', '.tiff', '.heic', '.avif']);
const TRAIN_DIRS = ['train', 'training'];
/** The largest typed array V8 allocates (2^32 - 1 elements). */
const MAX_ARRAY_BYTES = 2 ** 32 - 1;
const TEST_DIRS = ['test', 'val', 'validation', 'valid'];

/** ImageNet mean/std: what pretrained ViTs expect, the usual choice for fine-tuning on photos. */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export interface ImageFolderOptions {
  /** [height, width] every image is brought to: shorter side resized, then center-cropped (default 224). */
  imageSize?: [number, number];
  /** Class names in label order (default: the subfolder names, sorted). */
  classNames?: string[];
  /** Called after each decoded image. */
  onProgress?: (done: number, total: number) => void;
  /** Kept for symmetry with other loaders; images are always decoded to RGB. */
  channels?: number;
  /** Told about files that are skipped (formats the decoders cannot read, such as BMP). */
  onWarning?: (message: string) => void;
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

function imagesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
}

/** Class subfolders holding at least one image, directly in `dir`. */
function classDirs(dir: string): string[] {
  return subdirs(dir).filter((d) => imagesIn(join(dir, d)).length > 0);
}

function splitDir(dir: string, names: readonly string[]): string | undefined {
  for (const n of names) {
    const p = join(dir, n);
    if (isDirectory(p) && classDirs(p).length > 0) return p;
  }
  return undefined;
}

/** True when `dir` has class subfolders of images, or train/ (and val/) folders of those. */
export function looksLikeImageFolder(dir: string): boolean {
  return isDirectory(dir) && (splitDir(dir, TRAIN_DIRS) !== undefined || classDirs(dir).length > 0);
}

async function loadSplit(dir: string, classNames: string[], size: [number, number], name: string, options: ImageFolderOptions): Promise<ImageDataset> {
  const files: { path: string; label: number }[] = [];
  const skipped: string[] = [];
  for (const entry of subdirs(dir)) {
    for (const e of readdirSync(join(dir, entry), { withFileTypes: true })) {
      if (e.isFile() && UNDECODED_EXTENSIONS.has(extname(e.name).toLowerCase())) skipped.push(join(entry, e.name));
    }
    const label = classNames.indexOf(entry);
    const images = imagesIn(join(dir, entry));
    if (images.length === 0) continue;
    if (label < 0) throw new DataError(`${dir}/${entry} is not one of the training classes (${classNames.join(', ')})`, 'use the same class folders in every split');
    for (const f of images) files.push({ path: join(dir, entry, f), label });
  }
  if (skipped.length > 0) {
    const kinds = [...new Set(skipped.map((f) => extname(f).toLowerCase()))].join(', ');
    options.onWarning?.(`${name}: skipping ${skipped.length} ${kinds} file${skipped.length > 1 ? 's' : ''} vitkit cannot decode (e.g. ${skipped[0]}); convert them to PNG or JPEG to use them`);
  }
  const [h, w] = size;
  // One byte per value in one array: refuse what no array can hold before decoding anything.
  if (files.length * h * w * 3 > MAX_ARRAY_BYTES) {
    throw new DataError(`${name}: ${files.length} images of ${h}x${w}x3 need ${files.length * h * w * 3} bytes, more than one array holds (${MAX_ARRAY_BYTES})`, 'use a smaller image size or fewer images');
  }
  const spec: PreprocessSpec = {
    resize: { kind: 'shortest-edge', size: Math.max(h, w), interpolation: 'bilinear' },
    crop: { height: h, width: w, convention: 'torchvision' },
  };
  const images = new Uint8Array(files.length * h * w * 3);
  const labels = new Int32Array(files.length);
  for (const [i, f] of files.entries()) {
    let pixels: Uint8Array;
    try {
      const decoded = await decodeImage(readBytes(f.path));
      const img = prepareGeometry(decoded, spec);
      pixels = img.data instanceof Uint8Array ? img.data : Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
    } catch (e) {
      if (isVitkitError(e)) throw new DataError(`${f.path}: ${e.reason}`, e.hint ?? 'remove or replace the file', { cause: e });
      throw e;
    }
    images.set(pixels, i * h * w * 3);
    labels[i] = f.label;
    options.onProgress?.(i + 1, files.length);
  }
  const ds: ImageDataset = { name, images, shape: [files.length, h, w, 3], labels, numClasses: classNames.length, classNames, normalization: IMAGENET_NORMALIZATION };
  validateDataset(ds);
  return ds;
}

/**
 * Loads an ImageFolder tree (torchvision's convention): `<dir>/<class>/*.jpg`,
 * or `<dir>/train/<class>/...` with an optional `<dir>/val/<class>/...` (or
 * test/). Labels are the sorted class folder names. Every image is decoded
 * to RGB, its shorter side resized to the target size, then center-cropped.
 */
export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<DatasetSplits> {
  const size = options.imageSize ?? [224, 224];
  const trainDir = splitDir(dir, TRAIN_DIRS) ?? dir;
  const classNames = options.classNames ?? classDirs(trainDir);
  if (classNames.length === 0) throw new DataError(`${dir} has no class subfolders with images`, 'lay images out as <dir>/<class name>/<image>.jpg');
  const name = basename(dir);
  const train = await loadSplit(trainDir, classNames, size, `${name} train`, options);
  const testDir = trainDir === dir ? undefined : splitDir(dir, TEST_DIRS);
  if (!testDir) return { train };
  return { train, test: await loadSplit(testDir, classNames, size, `${name} test`, options) };
}
