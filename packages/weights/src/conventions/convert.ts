import { ConfigError } from '@vitkit/core';
import { CheckpointKeysError, listPreview } from '../errors.js';
import type { RawTensor, RawTensors } from '../raw_tensor.js';
import type { Convention } from './convention.js';
import { RULES, type ConversionContext, type Rule } from './rules.js';

export interface ConversionResult {
  tensors: RawTensors;
  /** Tensors left out on purpose (e.g. the ViTModel pooler, which timm has no use for). */
  dropped: string[];
}

const patternCache = new Map<string, RegExp>();

/** `blocks.{i}.norm1.weight` -> /^blocks\.(\d+)\.norm1\.weight$/ */
function pattern(p: string): RegExp {
  let re = patternCache.get(p);
  if (!re) {
    const escaped = p.replace(/[.*+?^$()|[\]\\/]/g, '\\$&').replace('{i}', '(\\d+)');
    re = new RegExp(`^${escaped}$`);
    patternCache.set(p, re);
  }
  return re;
}

const fill = (p: string, i: string | undefined): string => (i === undefined ? p : p.replace('{i}', i));

/**
 * Renames (and where needed relayouts) a checkpoint's tensors to timm's
 * names and PyTorch layouts. Tensors no rule knows are passed through under
 * their own names, so a later key check lists them as unexpected.
 */
export function convertToTimm(tensors: RawTensors, convention: Convention): ConversionResult {
  if (convention === 'timm') return { tensors: new Map(tensors), dropped: [] };
  const { rules, dropOnRead, dropOnReadPrefixes = [], afterRead } = RULES[convention];
  const out: RawTensors = new Map();
  const used = new Set<string>();
  for (const rule of rules) {
    const first = pattern(rule.foreign[0]!);
    for (const key of tensors.keys()) {
      const m = first.exec(key);
      if (!m) continue;
      const names = rule.foreign.map((p) => fill(p, m[1]));
      const missing = names.filter((n) => !tensors.has(n));
      if (missing.length) throw new CheckpointKeysError(missing, [], `the checkpoint has ${key} but not its companions; it is incomplete`);
      const parts = names.map((n) => tensors.get(n)!);
      const timmName = fill(rule.timm, m[1]);
      out.set(timmName, rule.transform ? rule.transform.toTimm(parts, timmName) : parts[0]!);
      for (const n of names) used.add(n);
    }
  }
  const dropped: string[] = [];
  for (const [key, t] of tensors) {
    if (used.has(key)) continue;
    if (dropOnRead.includes(key) || dropOnReadPrefixes.some((p) => key.startsWith(p))) dropped.push(key);
    else if (!out.has(key)) out.set(key, t);
  }
  afterRead?.(out);
  return { tensors: out, dropped };
}

/**
 * Renames timm tensors to another convention's names and layouts. Throws a
 * ConfigError naming the tensors that convention cannot hold (for example
 * register tokens, which only timm has).
 */
export function convertFromTimm(tensors: RawTensors, convention: Convention, ctx: ConversionContext = {}): ConversionResult {
  if (convention === 'timm') return { tensors: new Map(tensors), dropped: [] };
  const { rules, dropOnWrite, beforeWrite } = RULES[convention];
  if (beforeWrite) {
    tensors = new Map(tensors);
    beforeWrite(tensors);
  }
  const writable = rules.filter((r) => !r.readOnly);
  const out: RawTensors = new Map();
  const dropped: string[] = [];
  const unsupported: string[] = [];
  for (const [name, t] of tensors) {
    if (dropOnWrite.includes(name)) {
      dropped.push(name);
      continue;
    }
    const hit = findRule(writable, name);
    if (!hit) {
      unsupported.push(name);
      continue;
    }
    const values: RawTensor[] = hit.rule.transform ? hit.rule.transform.fromTimm(t, name, ctx) : [t];
    hit.rule.foreign.forEach((p, k) => out.set(fill(p, hit.index), values[k]!));
  }
  if (unsupported.length) {
    throw new ConfigError(
      `the ${convention} convention has no place for ${listPreview(unsupported)}`,
      'save in the timm convention, which holds every vitkit architecture',
    );
  }
  return { tensors: out, dropped };
}

function findRule(rules: readonly Rule[], name: string): { rule: Rule; index: string | undefined } | undefined {
  for (const rule of rules) {
    const m = pattern(rule.timm).exec(name);
    if (m) return { rule, index: m[1] };
  }
  return undefined;
}

/** Attention heads recorded in a JAX checkpoint's kernel shapes ([D, heads, headDim]), if any. */
export function numHeadsFromJax(tensors: RawTensors): number | undefined {
  for (const [k, t] of tensors) {
    if (/MultiHeadDotProductAttention_1\/query\/kernel$/.test(k) && t.shape.length === 3) return t.shape[1];
  }
  return undefined;
}
