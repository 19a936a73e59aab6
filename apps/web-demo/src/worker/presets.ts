// Data only (no imports), so the page can list the choices without pulling in tfjs.

/** Preprocessing the page offers besides "as the model says", by key. */
export const PREPROCESS_CHOICES: Readonly<Record<string, string>> = {
  hf: 'Hugging Face ViT: stretch to size, mean/std 0.5',
  timm: 'timm: resize, center crop 90%, bicubic, mean/std 0.5',
  torchvision: 'torchvision: resize 256, center crop 224, ImageNet mean/std',
  'fashion-mnist': 'Fashion-MNIST: stretch to size, mean 0.286, std 0.353',
  unit: 'Pixels in [0, 1], nothing else',
};

/** A Hugging Face ViTImageProcessor config that stretches to the model's size (bilinear) and normalizes with `mean`/`std`. */
function stretch(size: [number, number], mean: number, std: number, normalize = true): Record<string, unknown> {
  return {
    do_resize: true,
    size: { height: size[0], width: size[1] },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: normalize,
    image_mean: [mean, mean, mean],
    image_std: [std, std, std],
  };
}

/**
 * What the task layer's `preprocess` option gets for each choice: the ecosystems' preset names
 * (square models), or a preprocessor config for the dataset-specific stretches. Non-square
 * models get the Hugging Face stretch for every preset (the presets are defined for squares).
 */
export function presetOption(choice: string, size: [number, number]): string | Record<string, unknown> | undefined {
  switch (choice) {
    case 'hf':
    case 'timm':
    case 'torchvision':
      return size[0] === size[1] ? choice : stretch(size, 0.5, 0.5);
    case 'fashion-mnist':
      return stretch(size, 0.286, 0.353);
    case 'unit':
      return stretch(size, 0, 1, false);
    default:
      return undefined;
  }
}
