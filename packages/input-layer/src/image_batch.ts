import { ConfigError, ShapeError } from '@vitkit/core';

/** What an input image batch must look like. */
export interface ImageBatchSpec {
  imageSize: [number, number];
  patchSize: number;
  inChannels: number;
  /**
   * Accept any height and width that are multiples of the patch size (timm `dynamic_img_size`);
   * `imageSize` is then the size the position embedding was learned for.
   */
  dynamicImageSize?: boolean;
}

/** What the check looks at: a tf.Tensor, or just its shape and dtype. */
export interface ShapeAndType {
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** The nearest sizes below and above `s` that are multiples of `p` (one when `s` is one). */
function nearestMultiples(s: number, p: number): [number, number] {
  const below = Math.max(p, Math.floor(s / p) * p);
  return [below, Math.ceil(s / p) * p];
}

/**
 * Checks that `x` is an NHWC float batch the model can embed: rank 4, the
 * configured channel count, and exactly the configured height and width
 * (position embeddings are learned for one patch grid), or with
 * `dynamicImageSize` any multiple of the patch size. Throws ShapeError
 * with the expected shape and, when the layout looks like NCHW, says so.
 */
export function assertImageBatch(x: ShapeAndType, spec: ImageBatchSpec): void {
  const [h, w] = spec.imageSize;
  const c = spec.inChannels;
  const expected = `[batch, ${h}, ${w}, ${c}] (NHWC)`;
  const got = `[${x.shape.join(', ')}]`;
  if (x.shape.length !== 4) {
    throw new ShapeError(`input images must have rank 4, shape ${expected}; got ${got}`, 'add a batch dimension or check the layout');
  }
  const [, xh, xw, xc] = x.shape as [number, number, number, number];
  if (xc !== c) {
    const looksNchw = x.shape[1] === c;
    throw new ShapeError(
      `input images must have ${c} channels in the last axis, shape ${expected}; got ${got}`,
      looksNchw ? 'the input looks NCHW: transpose it to NHWC with perm [0, 2, 3, 1]' : `give images with ${c} channels`,
    );
  }
  if (spec.dynamicImageSize && (xh % spec.patchSize !== 0 || xw % spec.patchSize !== 0 || xh === 0 || xw === 0)) {
    const [h0, h1] = nearestMultiples(xh, spec.patchSize);
    const [w0, w1] = nearestMultiples(xw, spec.patchSize);
    const options = h0 === h1 && w0 === w1 ? `${h0}x${w0}` : `${h0}x${w0} or ${h1}x${w1}`;
    throw new ShapeError(`input image size ${xh}x${xw} is not a multiple of patch ${spec.patchSize}: use ${options}`, `resize or crop images to a multiple of ${spec.patchSize}`);
  }
  if (xh % spec.patchSize !== 0 || xw % spec.patchSize !== 0) {
    throw new ShapeError(
      `input image size ${xh}x${xw} is not a multiple of the patch size ${spec.patchSize}`,
      `resize images to ${h}x${w}`,
    );
  }
  if (!spec.dynamicImageSize && (xh !== h || xw !== w)) {
    throw new ShapeError(`input image size ${xh}x${xw} does not match the model's ${h}x${w}; expected ${expected}`, `resize images to ${h}x${w}`);
  }
  if (x.dtype !== 'float32') {
    throw new ShapeError(`input images must be float32, got ${x.dtype}`, 'preprocess images to normalized float32 first');
  }
}

/** Image size as users write it: one number for square images, or [height, width]. */
export type ImageSizeInput = number | readonly [number, number];

/**
 * Normalizes and checks the image geometry a layer is built for: positive
 * integer sizes that are multiples of the patch size. Throws ConfigError.
 */
export function resolveImageSpec(spec: { imageSize: ImageSizeInput; patchSize: number; inChannels: number; dynamicImageSize?: boolean }): ImageBatchSpec {
  const imageSize: [number, number] = typeof spec.imageSize === 'number' ? [spec.imageSize, spec.imageSize] : [spec.imageSize[0], spec.imageSize[1]];
  const positive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${name} must be a positive integer, got ${v}`, 'fix the value in your config');
  };
  positive('patchSize', spec.patchSize);
  positive('inChannels', spec.inChannels);
  imageSize.forEach((s, i) => {
    positive(i === 0 ? 'image height' : 'image width', s);
    if (s % spec.patchSize !== 0) {
      throw new ConfigError(`image ${i === 0 ? 'height' : 'width'} ${s} is not a multiple of patch size ${spec.patchSize}`, `use a multiple of ${spec.patchSize}`);
    }
  });
  return { imageSize, patchSize: spec.patchSize, inChannels: spec.inChannels, ...(spec.dynamicImageSize ? { dynamicImageSize: true } : {}) };
}
