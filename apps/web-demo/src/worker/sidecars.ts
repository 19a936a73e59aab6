import { configInputFromJson, fetchBytes, hubEndpoint, parseHubRef, type WeightsCache } from '@vitkit/weights';
import type { ViTConfigInput } from '@vitkit/core';
import { InputError } from './errors.js';

/** The JSON files that travel with weights: the architecture and how inputs were preprocessed. */
export interface Sidecars {
  /** config.json as parsed (HF, timm or vitkit), when there is one. */
  config?: unknown;
  /** Hugging Face preprocessor_config.json, when there is one. */
  preprocessor?: unknown;
}

/** The architecture part of a config.json, or undefined for a JSON vitkit does not read as one. */
export function configInput(sidecars: Sidecars): ViTConfigInput | undefined {
  return sidecars.config === undefined ? undefined : configInputFromJson(sidecars.config);
}

function parseJson(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new InputError(`${name} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, 'pick the config.json that came with the weights');
  }
}

function looksLikePreprocessor(json: unknown): boolean {
  return typeof json === 'object' && json !== null && ('image_mean' in json || 'do_resize' in json || 'image_processor_type' in json || 'feature_extractor_type' in json);
}

/** Sorts picked JSON files into config and preprocessor config. */
export async function sidecarsFromFiles(files: readonly File[]): Promise<Sidecars> {
  const out: Sidecars = {};
  for (const file of files) {
    const json = parseJson(new Uint8Array(await file.arrayBuffer()), file.name);
    if (file.name === 'preprocessor_config.json' || (configInputFromJson(json) === undefined && looksLikePreprocessor(json))) {
      out.preprocessor = json;
    } else if (configInputFromJson(json) !== undefined) {
      if (out.config !== undefined) throw new InputError(`more than one model config among the files (${file.name} is the second)`, 'pick one config.json');
      out.config = json;
    } else {
      throw new InputError(`${file.name} is neither a model config nor a preprocessor config`, 'pick the config.json (and preprocessor_config.json) that came with the weights');
    }
  }
  return out;
}

export interface SidecarFetchOptions {
  cache: WeightsCache | undefined;
  fetch: typeof globalThis.fetch;
  endpoint?: string;
}

/** The folder a checkpoint URL or hf:// reference lives in, as an http(s) URL ending in '/'. */
export function baseUrlOf(url: string, endpoint?: string): string {
  if (url.startsWith('hf://')) {
    const ref = parseHubRef(url);
    const dir = ref.file?.includes('/') ? `${ref.file.slice(0, ref.file.lastIndexOf('/'))}/` : '';
    return `${hubEndpoint(endpoint)}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${dir}`;
  }
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href.replace(/[^/]*$/, '');
}

/**
 * Fetches one optional JSON file through the cache (a 404 is remembered as
 * "none"). Network errors count as "none" too: the weights download that
 * follows reports them properly, and a sidecar without CORS headers must not
 * block a checkpoint that has them.
 */
async function optionalJson(url: string, options: SidecarFetchOptions): Promise<unknown> {
  // One path segment: cache keys are relative paths, and a URL has slashes (and an empty one after 'https:').
  const key = `sidecar/${encodeURIComponent(url)}`;
  const cached = await options.cache?.get(key).catch(() => undefined);
  if (cached) return cached.length === 0 ? undefined : parseJson(cached, url);
  const res = await fetchBytes(url, { optional: true, fetch: options.fetch }).catch(() => undefined);
  if (!res) return undefined;
  const bytes = res.status === 'ok' ? res.bytes : new Uint8Array(0);
  await options.cache?.put(key, bytes).catch(() => undefined);
  return res.status === 'ok' ? parseJson(bytes, url) : undefined;
}

/** config.json and preprocessor_config.json next to a checkpoint URL, where they exist. */
export async function fetchSidecars(url: string, options: SidecarFetchOptions): Promise<Sidecars> {
  const base = baseUrlOf(url, options.endpoint);
  const [config, preprocessor] = await Promise.all([optionalJson(`${base}config.json`, options), optionalJson(`${base}preprocessor_config.json`, options)]);
  return { ...(config !== undefined ? { config } : {}), ...(preprocessor !== undefined ? { preprocessor } : {}) };
}
