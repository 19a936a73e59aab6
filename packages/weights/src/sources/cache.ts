import { ConfigError } from '@vitkit/core';
import { env, isNode, nodeModules, writeFileAtomic } from '../node.js';

/**
 * Where downloaded checkpoint files are kept. Keys are relative paths made
 * of safe segments (`hf/org/repo/revision/file`, `url/<hash>/file`).
 */
export interface WeightsCache {
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Removes an entry (a corrupt one, before it is downloaded again). */
  delete?(key: string): Promise<void>;
  /** Where an entry lives, for messages. */
  describe(key: string): string;
  /** A local file path for an entry, when the cache is a directory (lets big files be read without a copy). */
  pathOf?(key: string): Promise<string | undefined>;
}

/** The default cache directory: $VITKIT_CACHE, else ~/.cache/vitkit. */
export async function defaultCacheDir(): Promise<string> {
  const fromEnv = env('VITKIT_CACHE');
  if (fromEnv) return fromEnv;
  const { os, path } = await nodeModules();
  return path.join(os.homedir(), '.cache', 'vitkit');
}

function segments(key: string): string[] {
  const parts = key.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new ConfigError(`cannot cache "${key}": it is not a safe relative path`, 'use plain file names in URLs and shard indexes');
  }
  return parts;
}

/** A cache in a directory (Node). Entries are written atomically. */
export function directoryCache(dir: string): WeightsCache {
  const resolve = async (key: string) => (await nodeModules()).path.join(dir, ...segments(key));
  const cache: WeightsCache = {
    async get(key) {
      const { fs } = await nodeModules();
      try {
        return new Uint8Array(await fs.readFile(await resolve(key)));
      } catch {
        return undefined;
      }
    },
    async has(key) {
      return (await cache.pathOf!(key)) !== undefined;
    },
    async put(key, bytes) {
      // Written to a temporary file and renamed: a reader never sees a partial entry.
      await writeFileAtomic(await resolve(key), bytes);
    },
    async delete(key) {
      const { fs } = await nodeModules();
      await fs.rm(await resolve(key), { force: true });
    },
    describe(key) {
      return `${dir}/${key}`;
    },
    async pathOf(key) {
      const { fs } = await nodeModules();
      const p = await resolve(key);
      try {
        return (await fs.stat(p)).isFile() ? p : undefined;
      } catch {
        return undefined;
      }
    },
  };
  return cache;
}

interface CacheStorageLike {
  open(name: string): Promise<{
    match(request: string): Promise<Response | undefined>;
    put(request: string, response: Response): Promise<void>;
    delete(request: string): Promise<boolean>;
  }>;
}

/** A cache in the browser's Cache API (persists across page loads). */
export function browserCache(name = 'vitkit'): WeightsCache {
  const storage = (globalThis as { caches?: CacheStorageLike }).caches;
  const url = (key: string) => `https://vitkit.invalid/${segments(key).map(encodeURIComponent).join('/')}`;
  return {
    async get(key) {
      const hit = await (await storage?.open(name))?.match(url(key));
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    },
    async has(key) {
      return (await (await storage?.open(name))?.match(url(key))) !== undefined;
    },
    async put(key, bytes) {
      await (await storage?.open(name))?.put(url(key), new Response(bytes as Uint8Array<ArrayBuffer>));
    },
    async delete(key) {
      await (await storage?.open(name))?.delete(url(key));
    },
    describe(key) {
      return `Cache API "${name}": ${key}`;
    },
  };
}

/** What `cache` options accept: false (none), a directory, or a cache object. Undefined: the default. */
export type CacheOption = false | string | WeightsCache | undefined;

export async function resolveCache(option: CacheOption): Promise<WeightsCache | undefined> {
  if (option === false) return undefined;
  if (typeof option === 'object') return option;
  if (typeof option === 'string') return directoryCache(option);
  if (isNode) return directoryCache(await defaultCacheDir());
  return (globalThis as { caches?: unknown }).caches ? browserCache() : undefined;
}
