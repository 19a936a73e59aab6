// Hub repositories as the Hugging Face Hub publishes them (file names, config.json and
// preprocessor_config.json fields), shrunk to a few thousand random weights, and a local
// server that answers /{repo}/resolve/{revision}/{file} for them (VITKIT_HF_ENDPOINT).
// Used by hub_models.test.ts and by tooling/pack-test (the README's task-layer snippet).
import { createServer, type Server } from 'node:http';
import { configInputFromJson, convertFromTimm, serializeSafetensors, timmShapes, type Convention, type RawTensor } from '@vitkit/weights';
import { resolveConfig } from '@vitkit/core';

export interface HubRepo {
  /** org/name on the Hub. */
  repo: string;
  files: Record<string, string | Uint8Array>;
  /** What the task layer gives: labels (id2label names) or an embedding of `dim`. */
  expect: { labels: string[] } | { dim: number };
}

const IMAGENET = ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias', 'tiger shark, Galeocerdo cuvieri', 'hammerhead, hammerhead shark'];
const id2label = Object.fromEntries(IMAGENET.map((l, i) => [String(i), l]));
const label2id = Object.fromEntries(IMAGENET.map((l, i) => [l, i]));
const RESCALE = 0.00392156862745098;
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Deterministic small weights in timm's layout for `json`, written in `convention`'s names. */
function randomWeights(json: Record<string, unknown>, convention: Convention, extra: [string, number[]][] = []): Uint8Array {
  const config = resolveConfig(configInputFromJson(json)!);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2;
  const tensor = (shape: number[]): RawTensor => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand) });
  const timm = new Map<string, RawTensor>([...timmShapes(config)].map(([name, shape]) => [name, tensor(shape)]));
  // CLIP's visual_projection has no bias.
  if (convention === 'hf-clip') timm.get('head.bias')?.data.fill(0);
  const tensors = new Map(convertFromTimm(timm, convention, { numHeads: config.numHeads }).tensors);
  for (const [name, shape] of extra) tensors.set(name, tensor(shape));
  return serializeSafetensors(tensors as never);
}

const json = (o: unknown) => JSON.stringify(o, null, 2);

function hfRepo(repo: string, config: Record<string, unknown>, preprocessor: Record<string, unknown>, convention: Convention, expect: HubRepo['expect'], extra: [string, number[]][] = []): HubRepo {
  return { repo, files: { 'config.json': json(config), 'preprocessor_config.json': json(preprocessor), 'model.safetensors': randomWeights(config, convention, extra) }, expect };
}

// The text towers of full CLIP / SigLIP checkpoints: present in the file, left out by the task layer.
const TEXT_TOWER: [string, number[]][] = [
  ['text_model.embeddings.token_embedding.weight', [16, 16]],
  ['text_model.final_layer_norm.weight', [16]],
  ['logit_scale', [1]],
];

/** One per family and size class, as the README's "Models" table lists them. */
export function hubRepos(): HubRepo[] {
  const vitCommon = { attention_probs_dropout_prob: 0.0, hidden_act: 'gelu', hidden_dropout_prob: 0.0, initializer_range: 0.02, num_channels: 3, qkv_bias: true };
  return [
    hfRepo(
      'google/vit-base-patch16-224',
      { _name_or_path: 'google/vit-base-patch16-224', architectures: ['ViTForImageClassification'], ...vitCommon, hidden_size: 32, id2label, image_size: 32, intermediate_size: 64, label2id, layer_norm_eps: 1e-12, model_type: 'vit', num_attention_heads: 4, num_hidden_layers: 2, patch_size: 8, transformers_version: '4.13.0.dev0' },
      { do_normalize: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 2, size: 32 },
      'hf',
      { labels: IMAGENET },
    ),
    hfRepo(
      'facebook/deit-tiny-distilled-patch16-224',
      { architectures: ['DeiTForImageClassificationWithTeacher'], ...vitCommon, encoder_stride: 8, hidden_size: 24, id2label, image_size: 32, intermediate_size: 48, label2id, layer_norm_eps: 1e-12, model_type: 'deit', num_attention_heads: 3, num_hidden_layers: 2, patch_size: 8, torch_dtype: 'float32', transformers_version: '4.13.0.dev0' },
      { crop_size: 32, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'DeiTFeatureExtractor', image_mean: IMAGENET_MEAN, image_std: IMAGENET_STD, resample: 3, size: 36 },
      'hf-deit',
      { labels: IMAGENET },
    ),
    ...(['dinov2', 'dinov2_with_registers'] as const).map((modelType) =>
      hfRepo(
        modelType === 'dinov2' ? 'facebook/dinov2-small' : 'facebook/dinov2-with-registers-small',
        {
          architectures: [modelType === 'dinov2' ? 'Dinov2Model' : 'Dinov2WithRegistersModel'],
          ...vitCommon,
          drop_path_rate: 0.0,
          hidden_size: 32,
          image_size: 28,
          layer_norm_eps: 1e-6,
          layerscale_value: 1.0,
          mlp_ratio: 4,
          model_type: modelType,
          num_attention_heads: 2,
          num_hidden_layers: 2,
          ...(modelType === 'dinov2' ? {} : { num_register_tokens: 4 }),
          patch_size: 7,
          torch_dtype: 'float32',
          transformers_version: '4.31.0.dev0',
          use_swiglu_ffn: false,
        },
        { crop_size: { height: 28, width: 28 }, do_center_crop: true, do_convert_rgb: true, do_normalize: true, do_rescale: true, do_resize: true, image_mean: IMAGENET_MEAN, image_processor_type: 'BitImageProcessor', image_std: IMAGENET_STD, resample: 3, rescale_factor: RESCALE, size: { shortest_edge: 32 } },
        modelType === 'dinov2' ? 'hf-dinov2' : 'hf-dinov2-reg',
        { dim: 32 },
      ),
    ),
    hfRepo(
      'openai/clip-vit-base-patch32',
      {
        _name_or_path: 'openai/clip-vit-base-patch32',
        architectures: ['CLIPModel'],
        initializer_factor: 1.0,
        logit_scale_init_value: 2.6592,
        model_type: 'clip',
        projection_dim: 16,
        text_config: { hidden_size: 16, intermediate_size: 32, model_type: 'clip_text_model', num_attention_heads: 2, num_hidden_layers: 2, projection_dim: 16, hidden_act: 'quick_gelu' },
        vision_config: { hidden_size: 32, image_size: 32, intermediate_size: 64, model_type: 'clip_vision_model', num_attention_heads: 4, num_hidden_layers: 2, patch_size: 8, projection_dim: 16, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5 },
        transformers_version: '4.21.3',
      },
      { crop_size: 32, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor', image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 32 },
      'hf-clip',
      // The projected image embedding (get_image_features): projection_dim, after visual_projection.
      { dim: 16 },
      TEXT_TOWER,
    ),
    hfRepo(
      'google/siglip-base-patch16-224',
      {
        architectures: ['SiglipModel'],
        initializer_factor: 1.0,
        model_type: 'siglip',
        text_config: { hidden_size: 16, intermediate_size: 32, model_type: 'siglip_text_model', num_attention_heads: 2, num_hidden_layers: 2, vocab_size: 16 },
        torch_dtype: 'float32',
        transformers_version: '4.37.0.dev0',
        vision_config: { hidden_size: 32, image_size: 32, intermediate_size: 64, model_type: 'siglip_vision_model', num_attention_heads: 4, num_hidden_layers: 2, patch_size: 8 },
      },
      { do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_processor_type: 'SiglipImageProcessor', image_std: [0.5, 0.5, 0.5], processor_class: 'SiglipProcessor', resample: 3, rescale_factor: RESCALE, size: { height: 32, width: 32 } },
      'hf-siglip',
      { dim: 32 },
      TEXT_TOWER,
    ),
    (() => {
      // timm's hub layout: config.json with architecture / model_args / pretrained_cfg, timm names, no preprocessor_config.json.
      const config = {
        architecture: 'vit_small_patch14_dinov2',
        num_classes: 0,
        num_features: 32,
        global_pool: 'token',
        model_args: { img_size: 28, patch_size: 7, embed_dim: 32, depth: 2, num_heads: 2 },
        pretrained_cfg: {
          tag: 'lvd142m',
          custom_load: false,
          input_size: [3, 28, 28],
          fixed_input_size: true,
          interpolation: 'bicubic',
          crop_pct: 1.0,
          crop_mode: 'center',
          mean: IMAGENET_MEAN,
          std: IMAGENET_STD,
          num_classes: 0,
          pool_size: null,
          first_conv: 'patch_embed.proj',
          classifier: 'head',
          license: 'apache-2.0',
        },
      };
      return { repo: 'timm/vit_small_patch14_dinov2.lvd142m', files: { 'config.json': json(config), 'model.safetensors': randomWeights(config, 'timm') }, expect: { dim: 32 } };
    })(),
  ];
}

/** Serves `repos` at /{repo}/resolve/{any revision}/{file} on 127.0.0.1; returns the server and its URL. */
export async function serveHub(repos: HubRepo[]): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const files = new Map<string, Uint8Array>();
  for (const r of repos) for (const [name, body] of Object.entries(r.files)) files.set(`${r.repo}/${name}`, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  const server = createServer((req, res) => {
    const m = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const body = m && files.get(`${m[1]}/${m[2]}`);
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { server, url, close };
}
