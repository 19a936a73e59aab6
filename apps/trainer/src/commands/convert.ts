// `vit convert`: reads a ViT checkpoint in any format and convention vitkit
// knows and writes it in another (timm, Hugging Face, torchvision, JAX).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError, isPresetName, presetNames, type ViTConfigInput } from '@vitkit/core';
import {
  CONVENTIONS,
  configInputFromJson,
  prepareCheckpoint,
  readCheckpoint,
  resolveNumHeads,
  saveCheckpoint,
  type Convention,
  type FloatStorage,
  type PrepareOptions,
} from '@vitkit/weights';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, requiredString, stringFlag } from '../flags.js';

const TARGETS = CONVENTIONS;
const DTYPES = ['F32', 'F16', 'BF16'] as const;

const USAGE = `usage: vit convert <input> --to ${TARGETS.join('|')} --out FILE [options]

Reads a ViT checkpoint and writes it in another naming convention, checking
every tensor against the architecture on the way. Files are written atomically.

<input>                 .safetensors, .npz, model.safetensors.index.json, a checkpoint directory,
                        an http(s) URL, or hf://org/repo[@revision][/file]
  --to NAME             ${TARGETS.join(' | ')}
  --out FILE            output: .safetensors (.npz for jax); the hf* conventions also write config.json beside it
  --config FILE|PRESET  config.json (Hugging Face, timm or vitkit) or a preset name (${presetNames()[0]}, ...)
  --num-heads N         attention heads, when neither the weights nor a config record them
  --dtype TYPE          float storage of the output: F32 | F16 | BF16 (default F32)
  --offline             use cached downloads only (same as VITKIT_OFFLINE=1)`;

/** --config: a preset name, or a JSON file vitkit understands. */
async function configOption(spec: string | undefined): Promise<Pick<PrepareOptions, 'preset' | 'config'>> {
  if (spec === undefined) return {};
  if (isPresetName(spec)) return { preset: spec };
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch {
    throw new UsageError(`--config "${spec}" is neither a preset nor a readable file`, `use a config.json path or a preset (${presetNames().slice(0, 3).join(', ')}, ...)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${spec} is not valid JSON`, 'fix the file or pass a preset name');
  }
  const config: ViTConfigInput | undefined = configInputFromJson(json);
  if (!config) throw new ConfigError(`${spec} is not a config vitkit reads`, 'use a Hugging Face or timm config.json, or vitkit config fields (embedDim, numHeads, ...)');
  // The labels and class count of a config file describe the checkpoint here, not a new head.
  return { config };
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a checkpoint between timm, Hugging Face, torchvision and JAX conventions',
  usage: USAGE,
  allowPositionals: true,
  options: {
    to: { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string' },
    'num-heads': { type: 'string' },
    dtype: { type: 'string' },
    offline: { type: 'boolean' },
  },
  async run(flags: Flags, positionals: string[]): Promise<number> {
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'missing the input checkpoint' : `expected one input, got ${positionals.length}`, 'run `vit convert --help` for usage');
    }
    const to = choiceFlag(flags, 'to', TARGETS);
    if (to === undefined) throw new UsageError('--to is required', `use one of: ${TARGETS.join(', ')}`);
    const out = requiredString(flags, 'out');
    const dtype: FloatStorage = choiceFlag(flags, 'dtype', DTYPES) ?? 'F32';
    const numHeads = numberFlag(flags, 'num-heads', { integer: true, min: 1 });
    if (to === 'jax' ? !out.endsWith('.npz') : !out.endsWith('.safetensors')) {
      throw new UsageError(`--out must end in ${to === 'jax' ? '.npz' : '.safetensors'} for --to ${to}`);
    }
    const options: PrepareOptions = { ...(await configOption(stringFlag(flags, 'config'))), ...(numHeads !== undefined ? { numHeads } : {}) };
    const raw = await readCheckpoint(positionals[0]!, booleanFlag(flags, 'offline') ? { offline: true } : {});
    // timm and torchvision files do not record the head count, so converting into them
    // does not need it; a placeholder lets the tensors be checked all the same.
    const headsFree: Convention[] = ['timm', 'torchvision'];
    if (resolveNumHeads(raw, options) === undefined && headsFree.includes(to)) options.numHeads = 1;
    const prepared = prepareCheckpoint(raw, options);
    const saved = await saveCheckpoint(prepared.tensors, out, { convention: to, config: prepared.config, dtype });
    const dropped = [...prepared.dropped, ...saved.dropped];
    console.log(
      `converted ${prepared.convention} (${raw.format}) -> ${to}: wrote ${saved.files.map((f) => basename(f)).join(' and ')}` +
        (dropped.length ? `; left out ${dropped.join(', ')}` : ''),
    );
    return 0;
  },
};
