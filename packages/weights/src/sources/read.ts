import type { ViTConfigInput } from '@vitkit/core';
import { CheckpointNotFoundError, FetchError, OfflineError, WeightsFormatError } from '../errors.js';
import { configInputFromJson } from '../hf_config.js';
import { env, isNode, nodeModules } from '../node.js';
import { parseNpz } from '../npz.js';
import type { RawTensors } from '../raw_tensor.js';
import { parseSafetensors } from '../safetensors.js';
import { readSafetensorsFile } from '../safetensors_file.js';
import { SHARD_INDEX_FILE, mergeShards, parseShardIndex } from '../sharded.js';
import { resolveCache, type CacheOption, type WeightsCache } from './cache.js';
import { fetchBytes, metaOf, type FetchedMeta, type FetchOptions, type ProgressCallback } from './fetch.js';
import { hubBaseUrl, hubEndpoint, isHubRef, isSafeRelativePath, parseHubRef, safeDecode } from './hub.js';

/**
 * Where a checkpoint can come from: a Node path (file or directory), an
 * http(s) URL, `hf://org/repo[@revision][/file]`, or bytes (File, Blob,
 * ArrayBuffer, Uint8Array).
 */
export type CheckpointSource = string | URL | Blob | ArrayBuffer | Uint8Array;

export interface ReadOptions {
  /** Called as each downloaded file arrives (and once per cache hit). */
  onProgress?: ProgressCallback;
  /** false: no cache; a directory; or a WeightsCache. Default: $VITKIT_CACHE or ~/.cache/vitkit in Node, the Cache API in browsers. */
  cache?: CacheOption;
  /** Never touch the network; fail naming the first file not in the cache. Default: $VITKIT_OFFLINE=1. */
  offline?: boolean;
  /** Hub base URL. Default: $VITKIT_HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Hub access token for private or gated repos. Default: $HF_TOKEN. */
  token?: string;
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
  /** Largest download accepted when the server declares no size (default 4 GiB, $VITKIT_MAX_DOWNLOAD_BYTES). */
  maxBytes?: number;
  /** Give up on a download after this many ms without data (default 30000, $VITKIT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** Told about things worth knowing that are not errors (a cached copy served because the Hub could not be asked). */
  onNote?: (message: string) => void;
  /**
   * JSON files to read, when present, from where the weights are (a directory, the directory of a
   * file or URL, an hub repo), e.g. `preprocessor_config.json`; returned parsed in `sidecars`.
   * `config.json` is always returned there when it was found.
   */
  sidecars?: readonly string[];
}

export type CheckpointFormat = 'safetensors' | 'npz';

/** A checkpoint as stored: original tensor names, decoded to typed arrays. */
export interface RawCheckpoint {
  tensors: RawTensors;
  /** safetensors `__metadata__` (merged over shards). */
  metadata: Record<string, string>;
  format: CheckpointFormat;
  /** The architecture from a config.json found with the weights, if any. */
  fileConfig: ViTConfigInput | undefined;
  /** Every file read (paths or URLs). */
  files: string[];
  /** Parsed JSON files found with the weights, by name: `config.json`, and those asked for in `options.sidecars`. */
  sidecars?: Record<string, unknown>;
}

/**
 * A file resolved from a location: on disk, or in memory. A fresh download
 * has `commit` (puts it in the cache: called once the file parsed); a cached
 * copy has `refetch` (evicts it and downloads it again: called when it does
 * not parse).
 */
type FileRef = ({ kind: 'path'; path: string; name: string } | { kind: 'bytes'; bytes: Uint8Array; name: string }) & {
  commit?: () => Promise<void>;
  refetch?: (error: unknown) => Promise<FileRef>;
};

/** Parses a file; a cached copy that fails with a format error is evicted and downloaded once more. Downloads enter the cache only once parsed. */
async function parseRef<T>(ref: FileRef, parse: (ref: FileRef) => Promise<T>): Promise<T> {
  let used = ref;
  let result: T;
  try {
    result = await parse(ref);
  } catch (e) {
    if (!(e instanceof WeightsFormatError) || !ref.refetch) throw e;
    used = await ref.refetch(e);
    result = await parse(used);
  }
  await used.commit?.();
  return result;
}

const COMMIT_HASH = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

async function sha256Bytes(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A directory-like place holding checkpoint files: a local directory, a URL prefix, a Hub repo. */
interface Location {
  open(name: string, optional: boolean): Promise<FileRef | undefined>;
  describe(name: string): string;
  list?(): Promise<string[]>;
}

const ZIP_MAGIC = [0x50, 0x4b];

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === ZIP_MAGIC[0] && bytes[1] === ZIP_MAGIC[1];
}

function localDir(dir: string): Location {
  return {
    async open(name, optional) {
      const { fs, path } = await nodeModules();
      const p = path.join(dir, name);
      try {
        if ((await fs.stat(p)).isFile()) return { kind: 'path', path: p, name };
      } catch {
        // not there
      }
      if (optional) return undefined;
      throw new CheckpointNotFoundError(`file ${p}`);
    },
    describe: (name) => `${dir}/${name}`,
    async list() {
      const { fs } = await nodeModules();
      return fs.readdir(dir);
    },
  };
}

interface RemoteOptions {
  /** Ask the server (HEAD) whether a cached copy is still current: Hub branches and tags, which move. */
  revalidate: boolean;
}

/** What a HEAD request says about a file: its identity, 'missing', or undefined when the server could not be asked. */
async function headMeta(url: string, headers: Record<string, string>, options: ReadOptions): Promise<FetchedMeta | 'missing' | undefined> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const signal = AbortSignal.timeout(options.idleTimeoutMs ?? 30_000);
  try {
    // Not following redirects: the Hub's own answer carries X-Repo-Commit and X-Linked-Etag (the LFS sha256), the CDN's does not.
    const res = await doFetch(url, { method: 'HEAD', headers: { 'accept-encoding': 'identity', ...headers }, redirect: 'manual', signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal });
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) return 'missing';
    if (res.status >= 400 || res.status === 0) return undefined;
    const meta = metaOf(res.headers);
    return meta.etag || meta.commit ? meta : undefined;
  } catch {
    return undefined;
  }
}

function sameFile(remote: FetchedMeta, stored: FetchedMeta | undefined): boolean {
  if (!stored) return false;
  if (remote.etag && stored.etag) return remote.etag === stored.etag;
  if (remote.commit && stored.commit) return remote.commit === stored.commit;
  return false;
}

async function storedMeta(cache: WeightsCache, key: string): Promise<FetchedMeta | undefined> {
  const bytes = await cache.get(`${key}.etag`).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { etag?: unknown; commit?: unknown };
    return { etag: typeof v.etag === 'string' ? v.etag : undefined, commit: typeof v.commit === 'string' ? v.commit : undefined };
  } catch {
    return undefined;
  }
}

/** A URL prefix whose files go through the cache, honouring offline mode. */
function remote(baseUrl: string, cacheKey: string, options: ReadOptions, cache: WeightsCache | undefined, offline: boolean, headers: Record<string, string>, how: RemoteOptions = { revalidate: false }): Location {
  const fetchOptions = (name: string): FetchOptions & { optional: true } => ({
    optional: true,
    headers,
    onProgress: options.onProgress,
    file: name,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
  });

  /** Downloads a file and checks it (size, and sha256 where the server names one); the cache gets it only on `commit`. */
  async function download(name: string, key: string, url: string, optional: boolean, known: FetchedMeta | undefined): Promise<FileRef | undefined> {
    if (offline) throw new OfflineError(name, cache ? `looked in ${cache.describe(key)}; would download ${url}` : `no cache configured; would download ${url}`);
    const res = await fetchBytes(url, fetchOptions(name));
    if (res.status === 'missing') {
      await cache?.put(`${key}.missing`, new Uint8Array(0)).catch(() => undefined);
      if (optional) return undefined;
      throw new FetchError(url, `${name} does not exist at ${url} (HTTP 404)`, 'check the repository, revision and file name', { status: 404 });
    }
    const meta: FetchedMeta = { etag: known?.etag ?? res.meta.etag, commit: known?.commit ?? res.meta.commit };
    if (meta.etag && SHA256.test(meta.etag)) {
      const actual = await sha256Bytes(res.bytes);
      if (actual !== meta.etag) {
        throw new FetchError(url, `download of ${url} is corrupt: sha256 ${actual.slice(0, 12)}... differs from the ${meta.etag.slice(0, 12)}... the server names`, 'retry the download');
      }
    }
    const commit = async () => {
      // A cache that cannot be written (read-only disk, quota) must not fail the load.
      if (!cache) return;
      await cache.put(key, res.bytes).catch(() => undefined);
      if (meta.etag || meta.commit) await cache.put(`${key}.etag`, new TextEncoder().encode(JSON.stringify(meta))).catch(() => undefined);
    };
    return { kind: 'bytes', bytes: res.bytes, name, commit };
  }

  return {
    async open(name, optional) {
      const key = `${cacheKey}/${name}`;
      const url = baseUrl + name.split('/').map(encodeURIComponent).join('/');
      const current = how.revalidate && !offline ? await headMeta(url, headers, options) : undefined;
      if (cache) {
        const path = await cache.pathOf?.(key);
        const bytes = path || cache.pathOf ? undefined : await cache.get(key);
        const hit: FileRef | undefined = path ? { kind: 'path', path, name } : bytes ? { kind: 'bytes', bytes, name } : undefined;
        if (hit) {
          let fresh = true;
          if (how.revalidate && !offline) {
            if (current === undefined) options.onNote?.(`could not ask ${url} whether ${name} changed; using the cached copy`);
            else fresh = current !== 'missing' && sameFile(current, await storedMeta(cache, key));
          }
          if (fresh) {
            const size = hit.kind === 'bytes' ? hit.bytes.length : 1;
            options.onProgress?.({ file: name, loaded: size, total: size });
            return {
              ...hit,
              refetch: async (error) => {
                await cache.delete?.(key).catch(() => undefined);
                if (offline) throw error;
                const again = await download(name, key, url, false, undefined);
                return again!;
              },
            };
          }
        } else if (await cache.has(`${key}.missing`)) {
          if (!(how.revalidate && !offline && current !== undefined && current !== 'missing')) {
            if (optional) return undefined;
            throw new FetchError(url, `${name} does not exist at ${url} (HTTP 404, remembered in the cache)`, 'check the repository, revision and file name');
          }
        }
      }
      return download(name, key, url, optional, current === 'missing' ? undefined : current);
    },
    describe: (name) => baseUrl + name,
  };
}

async function fileBytes(ref: FileRef): Promise<Uint8Array> {
  if (ref.kind === 'bytes') return ref.bytes;
  const { fs } = await nodeModules();
  return new Uint8Array(await fs.readFile(ref.path));
}

/** The first 4 bytes of a file, to tell formats apart by magic. */
async function headBytes(path: string): Promise<Uint8Array> {
  const { fs } = await nodeModules();
  const handle = await fs.open(path, 'r');
  try {
    const out = new Uint8Array(4);
    const { bytesRead } = await handle.read(out, 0, 4, 0);
    return out.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readJson(ref: FileRef, what: string): Promise<unknown> {
  return parseRef(ref, async (r) => {
    try {
      return JSON.parse(new TextDecoder().decode(await fileBytes(r))) as unknown;
    } catch (e) {
      throw new WeightsFormatError(`${what} is not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, 'download or export it again');
    }
  });
}

async function readSafetensorsRef(ref: FileRef, where: string): Promise<{ tensors: RawTensors; metadata: Record<string, string> }> {
  return parseRef(ref, (r) => parseSafetensorsRef(r, where));
}

async function parseSafetensorsRef(ref: FileRef, where: string): Promise<{ tensors: RawTensors; metadata: Record<string, string> }> {
  if (ref.kind === 'path') return readSafetensorsFile(ref.path);
  try {
    return parseSafetensors(ref.bytes);
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new WeightsFormatError(`${where}: ${e.reason}`, e.hint, { cause: e });
    throw e;
  }
}

/** Reads one named file of a location: a shard index, an npz, or a safetensors file. */
async function readWeightsFile(loc: Location, ref: FileRef): Promise<Omit<RawCheckpoint, 'fileConfig' | 'sidecars'>> {
  const where = loc.describe(ref.name);
  if (ref.name.endsWith('.json')) {
    const index = await parseRef(ref, async (r) => parseShardIndex(await fileBytes(r), r.name));
    const dir = ref.name.includes('/') ? ref.name.slice(0, ref.name.lastIndexOf('/') + 1) : '';
    const shards = new Map<string, RawTensors>();
    const metadata: Record<string, string> = {};
    const files = [where];
    for (const shard of index.shards) {
      const shardRef = (await loc.open(dir + shard, false))!;
      const parsed = await readSafetensorsRef(shardRef, loc.describe(dir + shard));
      shards.set(shard, parsed.tensors);
      Object.assign(metadata, parsed.metadata);
      files.push(loc.describe(dir + shard));
    }
    return { tensors: mergeShards(index, shards), metadata, format: 'safetensors', files };
  }
  const zip = ref.name.endsWith('.npz') || isZip(ref.kind === 'bytes' ? ref.bytes : await headBytes(ref.path));
  if (zip) {
    const tensors = await parseRef(ref, async (r) => {
      try {
        return await parseNpz(await fileBytes(r));
      } catch (e) {
        if (e instanceof WeightsFormatError) throw new WeightsFormatError(`${where}: ${e.reason}`, e.hint, { cause: e });
        throw e;
      }
    });
    return { tensors, metadata: {}, format: 'npz', files: [where] };
  }
  const parsed = await readSafetensorsRef(ref, where);
  return { ...parsed, format: 'safetensors', files: [where] };
}

/**
 * A repository-like location: config.json if present, then
 * model.safetensors, else the shard index, else (local directories) the
 * one weights file it holds.
 */
async function readLocation(loc: Location, file: string | undefined, label: string, wanted: readonly string[] = []): Promise<RawCheckpoint> {
  const dir = file && file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  const configRef = await loc.open(`${dir}config.json`, true);
  const configJson = configRef ? await readJson(configRef, loc.describe(configRef.name)) : undefined;
  const fileConfig = configRef ? configInputFromJson(configJson) : undefined;
  const sidecars = await readSidecars(loc, dir, wanted);
  if (configRef) sidecars['config.json'] = configJson;
  let ref: FileRef | undefined;
  if (file) ref = (await loc.open(file, false))!;
  else {
    ref = (await loc.open('model.safetensors', true)) ?? (await loc.open(SHARD_INDEX_FILE, true));
    if (!ref && loc.list) {
      const candidates = (await loc.list()).filter((n) => n.endsWith('.safetensors') || n.endsWith('.npz'));
      if (candidates.length === 1) ref = await loc.open(candidates[0]!, false);
      else if (candidates.length > 1) {
        throw new CheckpointNotFoundError(`a single checkpoint in ${label} (found ${candidates.join(', ')})`, 'pass the file you mean');
      }
    }
    if (!ref) throw new CheckpointNotFoundError(`model.safetensors or ${SHARD_INDEX_FILE} in ${label}`);
  }
  const read = await readWeightsFile(loc, ref);
  return { ...read, fileConfig, sidecars, files: configRef ? [loc.describe(configRef.name), ...read.files] : read.files };
}

/** The optional JSON files `names` of a location (under `dir`), parsed. */
async function readSidecars(loc: Location, dir: string, names: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'config.json' || !isSafeRelativePath(name)) continue;
    const ref = await loc.open(dir + name, true);
    if (ref) out[name] = await readJson(ref, loc.describe(ref.name));
  }
  return out;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function offlineFrom(options: ReadOptions): boolean {
  return options.offline ?? env('VITKIT_OFFLINE') === '1';
}

async function readBytesSource(bytes: Uint8Array, name: string): Promise<RawCheckpoint> {
  const loc: Location = { open: async () => undefined, describe: (n) => n };
  const read = await readWeightsFile(loc, { kind: 'bytes', bytes, name });
  return { ...read, fileConfig: undefined, sidecars: {} };
}

/** Reads a checkpoint's tensors, as stored, from any source (see CheckpointSource). */
export async function readCheckpoint(source: CheckpointSource, options: ReadOptions = {}): Promise<RawCheckpoint> {
  if (source instanceof Uint8Array) return readBytesSource(source, 'checkpoint');
  if (source instanceof ArrayBuffer) return readBytesSource(new Uint8Array(source), 'checkpoint');
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as { name?: unknown }).name;
    return readBytesSource(new Uint8Array(await source.arrayBuffer()), typeof name === 'string' && name ? name : 'checkpoint');
  }
  const text = source instanceof URL ? source.href : String(source);
  const cacheNeeded = isHubRef(text) || /^https?:\/\//i.test(text);
  const cache = cacheNeeded ? await resolveCache(options.cache) : undefined;
  const offline = offlineFrom(options);
  if (isHubRef(text)) {
    const ref = parseHubRef(text);
    const token = options.token ?? env('HF_TOKEN');
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const revKey = encodeURIComponent(ref.revision);
    // A branch or tag can move: ask the Hub whether cached files are still current, as huggingface_hub does. A commit cannot.
    const revalidate = !COMMIT_HASH.test(ref.revision);
    const loc = remote(hubBaseUrl(ref, hubEndpoint(options.endpoint)), `hf/${ref.repo}/${revKey}`, options, cache, offline, headers, { revalidate });
    return readLocation(loc, ref.file, `hf://${ref.repo}@${ref.revision}`, options.sidecars);
  }
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new CheckpointNotFoundError(`a valid URL in "${text}"`, 'check the address');
    }
    const name = safeDecode(url.pathname.split('/').pop() ?? '');
    if (!name || !isSafeRelativePath(name)) throw new CheckpointNotFoundError(`a file name in ${text}`, 'give the URL of a .safetensors, .npz or model.safetensors.index.json file');
    const base = text.slice(0, text.length - url.search.length - url.hash.length).replace(/[^/]*$/, '');
    const loc = remote(base, `url/${(await sha256Hex(base)).slice(0, 16)}`, options, cache, offline, {});
    const ref = (await loc.open(name, false))!;
    const read = await readWeightsFile(loc, ref);
    // Beside a URL, config.json and the rest are looked for only when asked (a plain URL load makes no extra requests).
    const wanted = options.sidecars ?? [];
    const sidecars = await readSidecars(loc, '', wanted);
    if (wanted.includes('config.json')) {
      const configRef = await loc.open('config.json', true);
      if (configRef) sidecars['config.json'] = await readJson(configRef, loc.describe('config.json'));
    }
    const fileConfig = sidecars['config.json'] !== undefined ? configInputFromJson(sidecars['config.json']) : undefined;
    return { ...read, fileConfig, sidecars };
  }
  if (!isNode) throw new CheckpointNotFoundError(`"${text}"`, 'in the browser, pass a URL, hf://org/repo, a File or an ArrayBuffer');
  const { fs, path } = await nodeModules();
  let stat;
  try {
    stat = await fs.stat(text);
  } catch {
    throw new CheckpointNotFoundError(`file ${text}`);
  }
  if (stat.isDirectory()) return readLocation(localDir(text), undefined, text, options.sidecars);
  const loc = localDir(path.dirname(text));
  const read = await readWeightsFile(loc, { kind: 'path', path: text, name: path.basename(text) });
  // A config.json beside the weights (as HF and timm exports have) describes them, when it is one vitkit reads.
  let fileConfig: ViTConfigInput | undefined;
  const sidecars = await readSidecars(loc, '', options.sidecars ?? []);
  const sibling = await loc.open('config.json', true);
  if (sibling) {
    try {
      const json = await readJson(sibling, loc.describe('config.json'));
      sidecars['config.json'] = json;
      fileConfig = configInputFromJson(json);
    } catch {
      fileConfig = undefined;
    }
  }
  return { ...read, fileConfig, sidecars };
}
