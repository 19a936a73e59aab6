import { ConfigError, isPresetName, PRESETS, type Activation, type Pooling, type ViTConfigInput } from '@vitkit/core';

/**
 * timm hub `config.json` ({ architecture, num_classes, global_pool, model_args, pretrained_cfg })
 * resolved as timm's `create_model(architecture, **model_args)`: the architecture's preset gives
 * the defaults, then the pretrained cfg (input size, classes), the top-level num_classes /
 * global_pool, and finally model_args.
 */
type Json = Record<string, unknown>;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const POOLS: Record<string, Pooling> = { token: 'token', avg: 'mean', map: 'map', '': 'none' };
const ACTS: Record<string, Activation> = { gelu: 'gelu', gelu_tanh: 'gelu_tanh', quick_gelu: 'quick_gelu' };

function pooling(v: unknown, where: string): Pooling {
  const p = typeof v === 'string' ? POOLS[v] : undefined;
  if (!p) throw new ConfigError(`${where}: global_pool ${JSON.stringify(v)} is not supported`, 'vitkit pools with "token", "avg", "map" or "" (none)');
  return p;
}

function num(args: Json, k: string): number {
  const v = args[k];
  if (!isNum(v)) throw new ConfigError(`config.json model_args.${k} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(args: Json, k: string): boolean {
  const v = args[k];
  if (typeof v !== 'boolean') throw new ConfigError(`config.json model_args.${k} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** model_args keys that do not change the weights or the eval-mode output. */
const HARMLESS = new Set(['drop_rate', 'pos_drop_rate', 'patch_drop_rate', 'weight_init', 'fix_init', 'out_indices', 'pretrained_strict']);
/** Keys vitkit accepts only at timm's default value. */
const DEFAULT_ONLY: Json = { scale_attn_norm: false, scale_mlp_norm: false, proj_bias: true, pos_embed: 'learn', pool_include_prefix: false, dynamic_img_pad: false, use_naflex: false };

/** model_args (timm VisionTransformer keyword arguments) as vitkit fields. */
function fromModelArgs(args: Json): ViTConfigInput {
  const out: ViTConfigInput = {};
  const rejected: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    switch (k) {
      case 'img_size':
        if (isNum(v)) out.imageSize = v;
        else if (Array.isArray(v) && v.length === 2 && v.every(isNum)) out.imageSize = [v[0] as number, v[1] as number];
        else throw new ConfigError(`config.json model_args.img_size must be a number or [height, width], got ${JSON.stringify(v)}`);
        break;
      case 'patch_size':
        out.patchSize = num(args, k);
        break;
      case 'in_chans':
        out.inChannels = num(args, k);
        break;
      case 'embed_dim':
        out.embedDim = num(args, k);
        break;
      case 'depth':
        out.depth = num(args, k);
        break;
      case 'num_heads':
        out.numHeads = num(args, k);
        break;
      case 'mlp_ratio':
        out.mlpRatio = num(args, k);
        break;
      case 'num_classes':
        out.numClasses = num(args, k);
        break;
      case 'qkv_bias':
        out.qkvBias = bool(args, k);
        break;
      case 'qk_norm':
        out.qkNorm = bool(args, k);
        break;
      case 'init_values':
        // timm: LayerScale only when init_values is truthy.
        if (v !== null && !isNum(v)) throw new ConfigError(`config.json model_args.init_values must be a number or null, got ${JSON.stringify(v)}`);
        out.layerScaleInit = v ? v : null;
        break;
      case 'class_token':
        out.classToken = bool(args, k);
        break;
      case 'reg_tokens':
        out.numRegisterTokens = num(args, k);
        break;
      case 'no_embed_class':
        out.noEmbedClass = bool(args, k);
        break;
      case 'pre_norm':
        out.preNorm = bool(args, k);
        break;
      case 'final_norm':
        out.finalNorm = bool(args, k);
        break;
      case 'fc_norm':
        if (v !== null) out.fcNorm = bool(args, k);
        break;
      case 'global_pool':
        out.pooling = pooling(v, 'config.json model_args');
        break;
      case 'dynamic_img_size':
        out.dynamicImageSize = bool(args, k);
        break;
      case 'act_layer': {
        const act = typeof v === 'string' ? ACTS[v] : undefined;
        if (!act) throw new ConfigError(`config.json model_args.act_layer ${JSON.stringify(v)} is not supported`, 'vitkit has gelu, gelu_tanh and quick_gelu');
        out.activation = act;
        break;
      }
      case 'norm_layer':
        // A string names a timm layer with its default eps; timm's LayerNorm uses 1e-6.
        if (v !== 'layernorm') throw new ConfigError(`config.json model_args.norm_layer ${JSON.stringify(v)} is not supported`, 'vitkit has LayerNorm ("layernorm") only');
        out.layerNormEps = 1e-6;
        break;
      case 'attn_drop_rate':
        out.attentionDropout = num(args, k);
        break;
      case 'proj_drop_rate':
        out.dropout = num(args, k);
        break;
      case 'drop_path_rate':
        out.dropPath = num(args, k);
        break;
      default:
        if (HARMLESS.has(k)) break;
        if (k in DEFAULT_ONLY && DEFAULT_ONLY[k] === v) break;
        rejected.push(`${k}=${JSON.stringify(v)}`);
    }
  }
  if (rejected.length) {
    throw new ConfigError(`config.json model_args ${rejected.join(', ')} change the model in ways vitkit does not support`, 'remove them only if the weights were trained without them');
  }
  return out;
}

export function timmHubToInput(json: Json): ViTConfigInput {
  const arch = String(json.architecture).split('.')[0]!;
  const out: ViTConfigInput = {};
  if (isPresetName(arch)) {
    const { mlpDim, ...preset } = PRESETS[arch]!;
    Object.assign(out, preset);
    // timm presets are written with mlp_ratio, so model_args that change embed_dim scale the MLP.
    if (mlpDim !== undefined && preset.mlpRatio === undefined) out.mlpRatio = mlpDim / (preset.embedDim ?? 768);
  }
  const pretrained = (typeof json.pretrained_cfg === 'object' && json.pretrained_cfg !== null ? json.pretrained_cfg : {}) as Json;
  const input = pretrained.input_size;
  if (Array.isArray(input) && input.length === 3 && input.every(isNum)) out.imageSize = [input[1] as number, input[2] as number];
  if (isNum(pretrained.num_classes) && pretrained.num_classes >= 0) out.numClasses = pretrained.num_classes;
  if (isNum(json.num_classes)) out.numClasses = json.num_classes;
  if (json.global_pool !== undefined) out.pooling = pooling(json.global_pool, 'config.json');
  const args = json.model_args;
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) throw new ConfigError('config.json model_args must be an object');
  Object.assign(out, fromModelArgs((args ?? {}) as Json));
  const labels = Array.isArray(json.label_names) ? json.label_names : Array.isArray(pretrained.label_names) ? pretrained.label_names : undefined;
  if (labels && labels.length === out.numClasses) out.labels = labels.map(String);
  return out;
}
