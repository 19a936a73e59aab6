import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodeImage, normalization as namedNormalization, prepareGeometry, specFromTimmConfig, type PreprocessSpec } from '@vitkit/preprocessing';
import { isVitkitError } from '@vitkit/core';
import { DataError } from '../errors.js';
import type { DatasetSplits, ImageDataset, Normalization } from './dataset.js';
import { validateDataset } from './dataset.js';
import { isDirectory, readBytes } from './files.js';
import { datasetNormalization, defaultFolderPreprocessing, lumaPixels, preprocessedSize } from './folder_preprocessing.js';

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
  /** [height, width] every image is brought to (default 224): as defaultFolderPreprocessing says, shorter side resized, then center-cropped. */
  imageSize?: [number, number];
  /**
   * A model's own preprocessing (e.g. specFromConfig of its preprocessor_config.json): its resize
   * and crop replace the default geometry (and set the size), its rescale and mean/std become the
   * normalization, so training inputs are what the task layer feeds that model.
   */
  preprocess?: PreprocessSpec;
  /** Class names in label order (default: the subfolder names, sorted). */
  classNames?: string[];
  /** Called after each decoded image. */
  onProgress?: (done: number, total: number) => void;
  /** 3 (default): RGB; 1: the luma of the decoded RGB, for gray models. */
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

/** Decodes one split; `classNames` undefined: this is the training split, whose subfolders are the classes. */
async function loadSplit(dir: string, classNames: string[] | undefined, size: [number, number], name: string, options: ImageFolderOptions): Promise<ImageDataset> {
  const files: { path: string; label: number }[] = [];
  const skipped: string[] = [];
  const other: string[] = [];
  const training = classNames === undefined;
  const classes = classNames ?? subdirs(dir);
  for (const entry of subdirs(dir)) {
    const entryFiles = readdirSync(join(dir, entry), { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.'));
    for (const e of entryFiles) {
      const ext = extname(e.name).toLowerCase();
      if (UNDECODED_EXTENSIONS.has(ext)) skipped.push(join(entry, e.name));
      else if (!IMAGE_EXTENSIONS.has(ext)) other.push(join(entry, e.name));
    }
    const label = classes.indexOf(entry);
    const images = imagesIn(join(dir, entry));
    if (images.length === 0) {
      // A training class without images would silently shrink (and renumber) the classes.
      if (training) throw new DataError(`${name}: class folder ${join(dir, entry)} has no images${entryFiles.length > 0 ? ` (only ${entryFiles.length} other file${entryFiles.length > 1 ? 's' : ''}, e.g. ${entryFiles[0]!.name})` : ''}`, 'add PNG/JPEG/GIF/WebP images to it, or remove the folder');
      continue;
    }
    if (label < 0) throw new DataError(`${dir}/${entry} is not one of the training classes (${classes.join(', ')})`, 'use the same class folders in every split');
    for (const f of images) files.push({ path: join(dir, entry, f), label });
  }
  if (skipped.length > 0) {
    const kinds = [...new Set(skipped.map((f) => extname(f).toLowerCase()))].join(', ');
    options.onWarning?.(`${name}: skipping ${skipped.length} ${kinds} file${skipped.length > 1 ? 's' : ''} vitkit cannot decode (e.g. ${skipped[0]}); convert them to PNG or JPEG to use them`);
  }
  if (other.length > 0) options.onWarning?.(`${name}: skipping ${other.length} file${other.length > 1 ? 's' : ''} that ${other.length > 1 ? 'are' : 'is'} not an image (e.g. ${other[0]})`);
  const [h, w] = size;
  const c = options.channels === 1 ? 1 : 3;
  // One byte per value in one array: refuse what no array can hold before decoding anything.
  if (files.length * h * w * c > MAX_ARRAY_BYTES) {
    throw new DataError(`${name}: ${files.length} images of ${h}x${w}x${c} need ${files.length * h * w * c} bytes, more than one array holds (${MAX_ARRAY_BYTES})`, 'use a smaller image size or fewer images');
  }
  const spec: PreprocessSpec = options.preprocess ?? specFromTimmConfig(defaultFolderPreprocessing(size));
  const images = new Uint8Array(files.length * h * w * c);
  const labels = new Int32Array(files.length);
  for (const [i, f] of files.entries()) {
    let pixels: Uint8Array;
    try {
      // Any image size: the geometry brings each to the one size (checked below).
      const decoded = await decodeImage(readBytes(f.path));
      const img = prepareGeometry(decoded, spec);
      pixels = img.data instanceof Uint8Array ? img.data : Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
      if (img.height !== h || img.width !== w) throw new DataError(`${f.path}: preprocessed to ${img.height}x${img.width}, not ${h}x${w}`, 'check the preprocessing config');
    } catch (e) {
      if (e instanceof DataError) throw e;
      if (isVitkitError(e)) throw new DataError(`${f.path}: ${e.reason}`, e.hint ?? 'remove or replace the file', { cause: e });
      throw e;
    }
    images.set(c === 1 ? lumaPixels(pixels) : pixels, i * h * w * c);
    labels[i] = f.label;
    options.onProgress?.(i + 1, files.length);
  }
  const norm: Normalization =
    options.preprocess || c === 1 ? datasetNormalization(options.preprocess ?? { rescale: 1 / 255, ...namedNormalization('imagenet') }, c) : IMAGENET_NORMALIZATION;
  const ds: ImageDataset = { name, images, shape: [files.length, h, w, c], labels, numClasses: classes.length, classNames: classes, normalization: norm };
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
  const size = options.preprocess ? preprocessedSize(options.preprocess) : (options.imageSize ?? [224, 224]);
  const trainDir = splitDir(dir, TRAIN_DIRS) ?? dir;
  if (classDirs(trainDir).length === 0) throw new DataError(`${dir} has no class subfolders with images`, 'lay images out as <dir>/<class name>/<image>.jpg');
  const name = basename(dir);
  const train = await loadSplit(trainDir, options.classNames, size, `${name} train`, options);
  if (train.numClasses < 2) throw new DataError(`${name}: one class folder (${train.classNames!.join('')}); a classifier needs at least two`, 'add a folder of images per class');
  const testDir = trainDir === dir ? undefined : splitDir(dir, TEST_DIRS);
  if (!testDir) return { train };
  return { train, test: await loadSplit(testDir, train.classNames, size, `${name} test`, options) };
}

/** The class names of an ImageFolder tree (its training split's subfolders, sorted), without decoding anything. */
export function imageFolderClassNames(dir: string): string[] {
  return subdirs(splitDir(dir, TRAIN_DIRS) ?? dir);
}
