// `vit preprocess`: decode an image and turn it into a model input exactly as
// timm, Hugging Face or torchvision would, saved as [H, W, 3] float32 .npy.
import { serializeNpy } from '@vitkit/core';
import { decodeImage, PREPROCESS_PRESET_NAMES, preprocess, readBytes, resolveSpec } from '@vitkit/preprocessing';
import { writeFileAtomic } from '@vitkit/weights';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, requiredString, stringFlag } from '../flags.js';

const USAGE = `usage: vit preprocess <image> (--preset NAME | --config FILE) --out FILE.npy [options]

Decodes an image (PNG, JPEG, WebP, GIF; EXIF orientation applied) and writes the
model input Python would compute, as [H, W, 3] float32 .npy (HWC).

<image>                   the image file
  --preset NAME           ${PREPROCESS_PRESET_NAMES.join(' | ')}:
                            timm         shorter side 248 bicubic, center crop 224, mean=std=0.5
                            hf           stretch to 224x224 bilinear, mean=std=0.5
                            torchvision  shorter side 256 bilinear, center crop 224, ImageNet mean/std
  --config FILE           a Hugging Face preprocessor_config.json or a timm pretrained_cfg JSON (wins over --preset)
  --out FILE              where to write the .npy (written atomically)
  --max-pixels N          refuse larger images before decoding (default 178956970, as Pillow)
  --no-exif               ignore the EXIF orientation
  --json                  print {"out", "shape", "min", "max", "mean"} instead of a sentence`;

export const preprocessCommand: Command = {
  name: 'preprocess',
  summary: 'decode an image and save the model input a timm / HF / torchvision pipeline gives (.npy)',
  usage: USAGE,
  allowPositionals: true,
  options: {
    preset: { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string' },
    'max-pixels': { type: 'string' },
    'no-exif': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(flags: Flags, positionals: string[]): Promise<number> {
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'missing the image file' : `expected one image file, got ${positionals.length}`, 'run `vit preprocess --help` for usage');
    }
    const preset = choiceFlag(flags, 'preset', PREPROCESS_PRESET_NAMES);
    const config = stringFlag(flags, 'config');
    if (preset === undefined && config === undefined) throw new UsageError('give --preset or --config', `presets: ${PREPROCESS_PRESET_NAMES.join(', ')}`);
    const out = requiredString(flags, 'out');
    const maxPixels = numberFlag(flags, 'max-pixels', { integer: true, min: 1 });

    const spec = await resolveSpec(config !== undefined ? { config } : { preset });
    const image = await decodeImage(await readBytes(positionals[0]!), {
      ...(maxPixels !== undefined ? { maxPixels } : {}),
      applyExifOrientation: !booleanFlag(flags, 'no-exif'),
    });
    const input = preprocess(image, spec);
    await writeFileAtomic(out, serializeNpy({ shape: input.shape, dtype: 'float32', data: input.data }));

    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of input.data) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    const mean = sum / input.data.length;
    if (booleanFlag(flags, 'json')) {
      console.log(JSON.stringify({ out, shape: input.shape, min, max, mean }));
    } else {
      console.log(
        `wrote ${out}: [${input.shape.join(', ')}] float32 from a ${image.width}x${image.height} ${image.format.toUpperCase()} ` +
          `(min ${min.toFixed(4)}, max ${max.toFixed(4)}, mean ${mean.toFixed(4)})`,
      );
    }
    return 0;
  },
};
