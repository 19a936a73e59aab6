// `vit embed`: one embedding per image, from any ViT (DINOv2, CLIP / SigLIP image towers, classifiers' pre-logits).
import { basename } from 'node:path';
import { setupBackend, type BackendChoice } from '@vitkit/core';
import { PREPROCESS_PRESET_NAMES } from '@vitkit/preprocessing';
import { EMBED_POOLINGS, ImageEmbedder } from '@vitkit/tasks';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, printable, requiredString, stringFlag } from '../flags.js';
import { BACKENDS, loadTask, MODEL_SOURCE_OPTIONS, writeNpyAtomic } from '../task_source.js';

const USAGE = `usage: vit embed <image...> --weights <source> [--out embeddings.npy] [--normalize] [--pooling P] [--json]

Computes one embedding per image, in argument order.

<image...>                PNG/JPEG/WebP/GIF files (any sizes)
  --weights SOURCE        model directory (weights + config.json + preprocessor_config.json),
                          checkpoint file, URL or hf://org/repo[@revision]
  --config FILE|PRESET    config.json or preset, when the source has none
  --preprocess NAME       ${PREPROCESS_PRESET_NAMES.join(' | ')} (default: the source's preprocessor_config.json)
  --pooling P             ${EMBED_POOLINGS.join(' | ')} (default model: the model's own pooling, its pre-logits
                          features: class token, mean, MAP or DINOv2's class token; tokens: all tokens)
  --normalize             scale each embedding (each token) to unit length
  --out FILE              write float32 .npy: [images, dim] ([images, tokens, dim] with --pooling tokens)
  --json                  print {"backend", "pooling", "dim", "results": [{"file", "embedding"}]}
  --backend NAME          auto | cpu | wasm | tensorflow (default auto)`;

export const embedCommand: Command = {
  name: 'embed',
  summary: 'image embeddings (pre-logits features, pooled tokens) as .npy or JSON',
  usage: USAGE,
  allowPositionals: true,
  options: {
    ...MODEL_SOURCE_OPTIONS,
    pooling: { type: 'string' },
    normalize: { type: 'boolean' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags: Flags, positionals: string[]): Promise<number> {
    if (positionals.length === 0) throw new UsageError('missing the image files', 'run `vit embed --help` for usage');
    const weights = requiredString(flags, 'weights');
    const pooling = choiceFlag(flags, 'pooling', EMBED_POOLINGS) ?? 'model';
    const preprocess = choiceFlag(flags, 'preprocess', PREPROCESS_PRESET_NAMES);
    const backendChoice: BackendChoice = choiceFlag(flags, 'backend', BACKENDS) ?? 'auto';
    const normalize = booleanFlag(flags, 'normalize');
    const json = booleanFlag(flags, 'json');
    const out = stringFlag(flags, 'out');
    const backend = await setupBackend(backendChoice);
    const embedder = await loadTask(weights, { config: stringFlag(flags, 'config'), preprocess }, ImageEmbedder);
    try {
      const vectors = await embedder.embed(positionals, { pooling, normalize });
      // A token is the model's width; a pooled vector may be wider or narrower (CLIP's projection).
      const dim = pooling === 'tokens' ? embedder.config.embedDim : vectors[0]!.length;
      if (out) {
        const data = new Float32Array(vectors.reduce((n, v) => n + v.length, 0));
        let at = 0;
        for (const v of vectors) {
          data.set(v, at);
          at += v.length;
        }
        const tokens = vectors[0]!.length / dim;
        await writeNpyAtomic(out, { shape: pooling === 'tokens' ? [vectors.length, tokens, dim] : [vectors.length, dim], data });
      }
      const names = positionals.map((p) => printable(basename(p)));
      if (json) {
        console.log(JSON.stringify({ backend: backend.name, pooling, dim, results: vectors.map((v, i) => ({ file: names[i], embedding: Array.from(v) })) }));
      } else {
        const lines = [`backend: ${backend.name}`, `pooling: ${pooling}${normalize ? ', normalized' : ''}`];
        for (const [i, v] of vectors.entries()) {
          const head = Array.from(v.subarray(0, 4), (x) => x.toFixed(4)).join(', ');
          lines.push(`  ${names[i]}: ${v.length} values [${head}${v.length > 4 ? ', ...' : ''}]`);
        }
        if (out) lines.push(`wrote ${out}`);
        console.log(lines.join('\n'));
      }
    } finally {
      embedder.dispose();
    }
    return 0;
  },
};
