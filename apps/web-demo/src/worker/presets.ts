// Data only (no imports), so the page can list the choices without pulling in tfjs.

/** Preprocessing the page offers besides "as the model says", by key. */
export const PREPROCESS_CHOICES: Readonly<Record<string, string>> = {
  hf: 'Hugging Face ViT: stretch to size, mean/std 0.5',
  timm: 'timm: resize, center crop 90%, bicubic, mean/std 0.5',
  torchvision: 'torchvision: resize 256, center crop 224, ImageNet mean/std',
  'fashion-mnist': 'Fashion-MNIST: stretch to size, mean 0.286, std 0.353',
  unit: 'Pixels in [0, 1], nothing else',
};
