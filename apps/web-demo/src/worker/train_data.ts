// The user's classes and images → an in-memory training set and a
// validation split, with a clear message for every input that cannot be used.
// Pure apart from decoding: the Node acceptance test builds the same data.
import { VitkitError } from '@vitkit/core';
import { toPixels, type TaskModel } from '@vitkit/tasks';
import { subset, type ImageDataset } from '@vitkit/training/browser';
import { Rng } from '@vitkit/core';

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 10;
/** Each class keeps at least this many images for training and one for validation. */
export const MIN_IMAGES_PER_CLASS = 2;
/** The share of each class held out to measure accuracy (at least one image per class). */
export const VALIDATION_FRACTION = 0.2;

/** Input the Teach mode cannot train on; the reason names the class or the file. */
export class TeachInputError extends VitkitError {
  constructor(reason: string, hint: string) {
    super('E_TEACH_INPUT', reason, hint);
  }
}

export interface TeachImage {
  /** An encoded image (PNG, JPEG, WebP, GIF, BMP) as picked, dropped or captured. */
  blob: Blob;
  name: string;
}

export interface TeachClass {
  name: string;
  images: TeachImage[];
}

export interface TeachData {
  /** All usable images, preprocessed as the model's own preprocessing says (float32 NHWC). */
  all: ImageDataset;
  train: ImageDataset;
  validation: ImageDataset;
  /** Things worth knowing that did not stop training (skipped files, resized images). */
  notices: string[];
}

/** Names: 2–10, none empty, no two the same. */
export function checkClasses(classes: readonly TeachClass[]): void {
  if (classes.length < MIN_CLASSES || classes.length > MAX_CLASSES) {
    throw new TeachInputError(`${classes.length} class${classes.length === 1 ? '' : 'es'} given; Teach trains ${MIN_CLASSES} to ${MAX_CLASSES}`, classes.length < MIN_CLASSES ? 'add another class' : 'remove a class');
  }
  const seen = new Set<string>();
  classes.forEach((c, i) => {
    const name = c.name.trim();
    if (!name) throw new TeachInputError(`class ${i + 1} has no name`, 'type a name for it');
    if (seen.has(name)) throw new TeachInputError(`two classes are called “${name}”`, 'give every class its own name');
    seen.add(name);
    if (c.images.length === 0) throw new TeachInputError(`class “${name}” has no images`, 'add images to it (files, a folder or the webcam), or remove it');
  });
}

/** Seeded, per class: VALIDATION_FRACTION of each class (rounded, at least one) is held out. */
export function stratifiedSplit(labels: Int32Array, numClasses: number, seed: number): { train: number[]; val: number[] } {
  const rng = new Rng(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < numClasses; k++) {
    const members = rng.shuffle([...labels.keys()].filter((i) => labels[i] === k));
    const nVal = Math.max(1, Math.round(members.length * VALIDATION_FRACTION));
    val.push(...members.slice(0, nVal));
    train.push(...members.slice(nVal));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/**
 * Decodes and preprocesses every image with the model's own preprocessing.
 * Files that are not images are skipped with a notice; a class left with
 * fewer than MIN_IMAGES_PER_CLASS images stops everything with a message.
 */
export async function buildTeachData(classes: readonly TeachClass[], task: TaskModel, seed: number, onProgress?: (done: number, total: number) => void): Promise<TeachData> {
  checkClasses(classes);
  const [h, w] = task.config.imageSize;
  const c = task.config.inChannels;
  const per = h * w * c;
  const total = classes.reduce((s, k) => s + k.images.length, 0);
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  const notices: string[] = [];
  const skipped: string[] = [];
  const sizes = new Map<string, string[]>();
  let done = 0;
  for (const [k, cls] of classes.entries()) {
    let kept = 0;
    for (const image of cls.images) {
      onProgress?.(done++, total);
      let pixels;
      try {
        pixels = await toPixels(image.blob);
      } catch {
        skipped.push(`${cls.name.trim()}/${image.name}`);
        continue;
      }
      const size = `${pixels.width}x${pixels.height}`;
      sizes.set(size, [...(sizes.get(size) ?? []), image.name]);
      const x = await task.preprocess(pixels);
      try {
        rows.push((await x.data()) as Float32Array);
      } finally {
        x.dispose();
      }
      labels.push(k);
      kept++;
    }
    if (kept < MIN_IMAGES_PER_CLASS) {
      throw new TeachInputError(
        `class “${cls.name.trim()}” has ${kept} usable image${kept === 1 ? '' : 's'}; each class needs at least ${MIN_IMAGES_PER_CLASS} (one to train on, one to check accuracy with)`,
        'add more images to it',
      );
    }
  }
  onProgress?.(total, total);
  if (skipped.length) notices.push(`skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that could not be read as images: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  if (sizes.size > 1) {
    const [common] = [...sizes].sort((a, b) => b[1].length - a[1].length)[0]!;
    const odd = [...sizes].filter(([s]) => s !== common).flatMap(([s, names]) => names.map((n) => `${n} (${s})`));
    notices.push(`most images are ${common}, but ${odd.slice(0, 5).join(', ')}${odd.length > 5 ? ', …' : ''} ${odd.length === 1 ? 'is' : 'are'} not; every image was brought to ${w}x${h} by the model's preprocessing`);
  }
  const images = new Float32Array(rows.length * per);
  rows.forEach((r, i) => images.set(r, i * per));
  const all: ImageDataset = {
    name: 'teach',
    images,
    shape: [rows.length, h, w, c],
    labels: Int32Array.from(labels),
    numClasses: classes.length,
    classNames: classes.map((k) => k.name.trim()),
  };
  const split = stratifiedSplit(all.labels, all.numClasses, seed);
  return { all, train: subset(all, split.train, 'teach train'), validation: subset(all, split.val, 'teach validation'), notices };
}
